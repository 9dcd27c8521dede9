"""Personal data: ID numbers and phones in full only at the receiving window and in the
fields a step's own form asks for; masked on every other page and in the API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models.cases import Case
from app.models.items import Item
from app.privacy import mask, mask_phone, masked
from workflows import models as m

from .conftest import api_for, signed_in
from .diagrams import laned, user

ID_NUMBER = "11010519491231002X"
PHONE = "13900000000"
MASKED_ID = "110105********002X"
MASKED_PHONE = "139****0000"
REVIEW_FORM = {
    "title": "审核",
    "type": "object",
    "properties": {
        "contact_phone": {"type": "string", "title": "联系电话", "readOnly": True},
        "opinion": {"type": "string", "title": "审核意见"},
    },
}
DIAGRAM = laned(
    "privacy_item",
    ("县 市场监督管理局/审批股 审核人", user("review", "审核", form="review.json")),
    ("县 市场监督管理局 分管领导", user("sign", "签批")),
)


def test_numbers_are_masked_in_the_middle():
    assert mask(ID_NUMBER) == MASKED_ID
    assert mask_phone(PHONE) == MASKED_PHONE
    assert mask_phone("0371-6612345") == "037*****2345"
    assert mask("") == ""


def test_masked_hides_personal_keys_at_any_depth_except_revealed_ones():
    data = {
        "applicant_id_number": ID_NUMBER,
        "contact_phone": PHONE,
        "applicant_name": "周建华",
        "signers": [{"phone": PHONE, "name": "甲"}],
        "owner": {"id_number": ID_NUMBER},
    }
    shown = masked(data, {"contact_phone"})
    assert shown == {
        "applicant_id_number": MASKED_ID,
        "contact_phone": PHONE,
        "applicant_name": "周建华",
        "signers": [{"phone": MASKED_PHONE, "name": "甲"}],
        "owner": {"id_number": MASKED_ID},
    }
    assert data["applicant_id_number"] == ID_NUMBER  # a copy, the data untouched


@pytest.fixture
def case(app, api, county, neighbour, session):
    """A case accepted at 东关村 (v11) whose first step (审核) asks for the phone."""
    bundle = [("privacy.bpmn", DIAGRAM), ("review.json", json.dumps(REVIEW_FORM).encode())]
    assert api.deploy(*bundle).status_code == 201
    session.add(
        Item(
            code="PRIV-001",
            name="隐私测试事项",
            kind="promise",
            lead_department_id=county.departments["scj"].id,
            statutory_days=20,
            committed_days=5,
            process_id="privacy_item",
            status="published",
        )
    )
    session.commit()
    body = {
        "item_code": "PRIV-001",
        "applicant": {"type": "person", "name": "周建华", "id_number": ID_NUMBER, "phone": PHONE},
        "place": county.code("v11"),
    }
    response = api_for(app, "v11_window_clerk").post("/api/v1/cases", body)
    assert response.status_code == 201, response.get_json()
    return session.scalars(select(Case).where(Case.number == response.get_json()["number"])).one()


def _review_item(session, case) -> m.WorkItem:
    return session.scalars(
        select(m.WorkItem).where(
            m.WorkItem.instance_id == case.instance_id, m.WorkItem.bpmn_id == "review"
        )
    ).one()


def _shows(text: str, full: bool) -> None:
    if full:
        assert ID_NUMBER in text or PHONE in text, text[:300]
    else:
        assert ID_NUMBER not in text and PHONE not in text
        assert MASKED_ID in text or MASKED_PHONE in text


@pytest.mark.parametrize(
    ("username", "full"),
    [
        ("v11_window_clerk", True),  # the receiving window
        ("t1_window_clerk", True),  # the township's window receives for its villages
        ("center_window_clerk", True),  # the county center too
        ("scj_spg_reviewer", False),
        ("center_inspector", False),
        ("bigdata_designer", False),
        ("bigdata_admin", False),  # manages the county, but is no window
    ],
)
def test_case_page_shows_numbers_in_full_only_to_the_receiving_window(app, case, username, full):
    page = signed_in(app, username).get(f"/cases/{case.number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    if full:
        assert ID_NUMBER in text and PHONE in text
    else:
        assert ID_NUMBER not in text and PHONE not in text
        assert MASKED_ID in text and MASKED_PHONE in text


def test_the_neighbour_countys_window_does_not_see_the_case_at_all(app, case):
    assert signed_in(app, "bs_center_window_clerk").get(f"/cases/{case.number}").status_code == 403


@pytest.mark.parametrize(
    ("username", "full"),
    [
        ("v11_window_clerk", True),
        ("scj_spg_reviewer", False),
        ("center_inspector", False),
        ("bigdata_designer", False),
    ],
)
def test_api_instance_data_and_history_are_masked_but_for_the_window(app, case, username, full):
    answer = api_for(app, username).get(f"/api/v1/instances/{case.instance_id}")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    _shows(json.dumps(body["data"], ensure_ascii=False), full)
    started = json.dumps([e["data"] for e in body["history"]], ensure_ascii=False)
    assert (ID_NUMBER in started) == full


def test_api_case_record_masks_the_id_number_for_everyone(app, case):
    for username in ("v11_window_clerk", "center_inspector"):
        body = api_for(app, username).get(f"/api/v1/cases/{case.number}").get_json()
        assert body["applicant"]["id_number"] == MASKED_ID


def test_task_page_shows_the_steps_own_fields_in_full_to_its_worker(app, case, session):
    item = _review_item(session, case)
    text = signed_in(app, "scj_spg_reviewer").get(f"/desk/items/{item.id}").get_data(as_text=True)
    assert PHONE in text  # 审核's form asks for the phone
    assert ID_NUMBER not in text  # and not for the ID number: not shown at all


def _complete_review(app, case) -> dict:
    review = api_for(app, "scj_spg_reviewer")
    item = review.open_items(case.instance_id)["review"]
    assert review.post(f"/api/v1/work-items/{item['id']}/claim", {}).status_code == 200
    item = review.open_items(case.instance_id)["review"]
    answer = review.complete(item, {"opinion": "同意"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_after_the_step_its_worker_still_reads_its_fields_and_onlookers_see_them_masked(
    app, case, session
):
    answer = _complete_review(app, case)
    assert PHONE not in json.dumps(answer, ensure_ascii=False)  # the API's answer: masked
    done = f"/desk/items/{_review_item(session, case).id}"
    assert PHONE in signed_in(app, "scj_spg_reviewer").get(done).get_data(as_text=True)
    assert PHONE in signed_in(app, "v11_window_clerk").get(done).get_data(as_text=True)
    # 签批's leader sees the case, and the earlier step's phone masked
    text = signed_in(app, "scj_deputy_leader").get(done).get_data(as_text=True)
    assert PHONE not in text and MASKED_PHONE in text


@pytest.mark.parametrize(
    ("username", "password"), [("bigdata_designer", None), ("admin", "password-admin")]
)
def test_designer_instance_page_shows_the_data_masked(app, case, username, password):
    page = signed_in(app, username, password).get(f"/designer/instances/{case.instance_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ID_NUMBER not in text and PHONE not in text
    assert MASKED_ID in text


def test_neighbour_designer_may_not_open_the_instance_page(app, case):
    page = signed_in(app, "bs_bigdata_designer").get(f"/designer/instances/{case.instance_id}")
    assert page.status_code == 403
