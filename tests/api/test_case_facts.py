"""The case's facts are the platform's: no request data may move a case to another place,
renumber it, change its applicant or decide its result (security audit findings)."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest

from app.models.items import Item, ItemMaterial

from ..conftest import CSRF, api_for, signed_in
from ..diagrams import laned, user

INTAKE_FORM = {
    "type": "object",
    "required": ["shop_name"],
    "properties": {
        "shop_name": {"type": "string", "title": "店名", "minLength": 1},
        "applicant_name": {"type": "string", "title": "申请人"},
    },
}
REVIEW_FORM = {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "shop_name": {"type": "string", "title": "店名", "readOnly": True},
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "photo": {"type": "string", "title": "现场照片", "format": "file"},
    },
}
FACTS_ITEM = laned(
    "facts_item",
    ("村 窗口受理员", user("intake", "受理", {"step": "intake"}, form="intake.json")),
    ("县 市场监督管理局/审批股 审核人", user("review", "审核", form="review.json")),
)
PERSON = {
    "type": "person",
    "name": "周建华",
    "id_number": "11010519491231002X",
    "phone": "13900000000",
}


@pytest.fixture
def item(api, county, session):
    forms = [
        (name, json.dumps(form, ensure_ascii=False).encode())
        for name, form in (("intake.json", INTAKE_FORM), ("review.json", REVIEW_FORM))
    ]
    assert api.deploy(("facts.bpmn", FACTS_ITEM), *forms).status_code == 201
    item = Item(
        code="FACTS-001",
        name="测试许可",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        statutory_days=20,
        committed_days=5,
        process_id="facts_item",
        status="published",
    )
    item.materials = [ItemMaterial(position=0, name="申请书", form="original", required=True)]
    session.add(item)
    session.commit()
    return item


def post_case(app, county, data, username="v11_window_clerk"):
    body = {
        "item_code": "FACTS-001",
        "applicant": PERSON,
        "place": county.code("v11"),
        "materials": ["申请书"],
        "data": data,
    }
    return api_for(app, username).post("/api/v1/cases", body)


def refused_fields(response) -> set[str]:
    assert response.status_code == 422, response.get_json()
    return set(response.get_json()["error"]["fields"])


def test_a_clerks_data_cannot_move_renumber_or_rename_the_case(app, api, item, county):
    elsewhere = {"shop_name": "老周豆腐坊", "place": county.code("t2")}
    assert refused_fields(post_case(app, county, elsewhere)) == {"place"}
    numbered = {"shop_name": "老周豆腐坊", "case_number": "1", "applicant_id_number": "x"}
    assert refused_fields(post_case(app, county, numbered)) == {
        "case_number",
        "applicant_id_number",
    }
    assert refused_fields(post_case(app, county, {"shop_name": "x", "secret": 1})) == {"secret"}

    response = post_case(app, county, {"shop_name": "老周豆腐坊"})
    assert response.status_code == 201, response.get_json()
    data = api.instance(response.get_json()["instance"])["data"]
    assert (data["place"], data["shop_name"]) == (county.code("v11"), "老周豆腐坊")
    assert data["case_number"] == response.get_json()["number"]


@pytest.fixture
def review(app, api, item, county) -> dict:
    response = post_case(app, county, {"shop_name": "老周豆腐坊"})
    assert response.status_code == 201, response.get_json()
    return api.open_items(response.get_json()["instance"])["review"]


def test_completing_a_step_takes_only_its_writable_fields(app, api, review, county):
    reviewer = api_for(app, "scj_spg_reviewer")
    facts = {"decision": "approve", "place": county.code("t2"), "result": "approve"}
    assert refused_fields(reviewer.complete(review, facts)) == {"place", "result"}
    read_only = {"decision": "approve", "shop_name": "别家"}
    assert refused_fields(reviewer.complete(review, read_only)) == {"shop_name"}
    assert refused_fields(reviewer.complete(review, {"decision": "approve", "x": 1})) == {"x"}

    done = reviewer.complete(review, {"decision": "approve", "opinion": "同意。"})
    assert done.status_code == 200, done.get_json()
    data = api.instance(review["instance"])["data"]
    assert (data["place"], data["shop_name"], data["opinion"]) == (
        county.code("v11"),
        "老周豆腐坊",
        "同意。",
    )


def test_a_window_starts_processes_only_at_its_places_and_without_case_facts(app, item, county):
    clerk = api_for(app, "v11_window_clerk")
    assert clerk.start("facts_item", {"place": county.code("v21")}).status_code == 403
    assert api_for(app, "v21_window_clerk").start("facts_item", {}).status_code == 403
    named = {"place": county.code("v11"), "case_number": "1", "lead_department": "x"}
    assert refused_fields(clerk.start("facts_item", named)) == {"case_number", "lead_department"}
    assert clerk.start("facts_item", {"place": county.code("v11")}).status_code == 201


def test_a_file_field_names_only_files_uploaded_to_its_own_case(app, api, review, county):
    photo = b"\xff\xd8\xff\xe0" + b"JFIF" + b"\x00" * 64
    reviewer = signed_in(app, "scj_spg_reviewer")
    page = reviewer.get(f"/desk/items/{review['id']}").get_data(as_text=True)
    form = {
        "csrf_token": CSRF.search(page).group(1),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "action": "complete",
        "decision": "approve",
        "photo__upload": (io.BytesIO(photo), "照片.jpg"),
    }
    done = reviewer.post(f"/desk/items/{review['id']}", data=form)
    assert done.status_code == 302, done.get_data(as_text=True)[:1000]
    value = api.instance(review["instance"])["data"]["photo"]
    assert value == f"{hashlib.sha256(photo).hexdigest()}/照片.jpg"

    other = post_case(app, county, {"shop_name": "另一家"}).get_json()["instance"]
    second = api.open_items(other)["review"]
    borrowed = api_for(app, "scj_spg_reviewer").complete(
        second, {"decision": "approve", "photo": value}
    )
    assert refused_fields(borrowed) == {"photo"}
