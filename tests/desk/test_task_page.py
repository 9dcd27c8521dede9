"""A reviewer opens a task from the worklist, fills its form, and the case moves on.

The form is drawn from the task's JSON Schema; the runtime judges what is sent and
its messages come back next to the fields. Drafts stay with their author.
"""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.models.desk import TaskDraft
from app.models.org import Backup
from app.schema_forms import fields, parse
from workflows.deployments import camunda_form_schema
from workflows.errors import InvalidTaskData
from workflows.forms import validate_task_data
from workflows.timeutil import utcnow

from ..conftest import CSRF, DIAGRAMS, SHIPPED, api_for, signed_in
from ..diagrams import laned, user

REVIEW_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "乡镇初审",
    "type": "object",
    "required": ["decision", "opinion", "review_date"],
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人", "readOnly": True},
        "decision": {
            "type": "string",
            "title": "初审结论",
            "oneOf": [
                {"const": "approve", "title": "同意，报县级审查"},
                {"const": "return", "title": "需补正"},
                {"const": "reject", "title": "不予通过"},
            ],
        },
        "opinion": {"type": "string", "title": "初审意见", "minLength": 1, "maxLength": 2000},
        "correction_items": {"type": "string", "title": "补正材料清单", "maxLength": 2000},
        "review_date": {"type": "string", "title": "初审日期", "format": "date"},
        "site_area": {"type": "integer", "title": "加工场地面积（平方米）", "minimum": 1},
        "product_type": {
            "type": "string",
            "title": "加工产品类别",
            "oneOf": [
                {"const": "sand_gravel", "title": "砂石骨料"},
                {"const": "building_stone", "title": "建筑石材"},
                {"const": "lime", "title": "石灰及石灰石制品"},
                {"const": "other", "title": "其他矿产品"},
            ],
        },
    },
    "if": {"properties": {"decision": {"const": "return"}}, "required": ["decision"]},
    "then": {"required": ["correction_items"]},
}
REPORT_UP = laned(
    "report_up",
    ("村 窗口受理员", user("accept", "受理登记")),
    ("乡镇 审核人", user("township", "乡镇初审", form="township.json")),
    ("县 自然资源局/矿产资源股 审核人", user("county_review", "县级审查")),
)
CASE = {
    "applicant_name": "张三",
    "case_number": "490102202611220001",
    "item_name": "矿产品加工资格证",
}
GOOD = {"decision": "approve", "opinion": "选址合理，材料齐全。", "review_date": "2026-11-23"}


# --- helpers -------------------------------------------------------------------------


@pytest.fixture
def township_item(app, api, county) -> dict:
    """A case accepted at 东关村, waiting for 城关镇's reviewer."""
    form = ("township.json", json.dumps(REVIEW_FORM, ensure_ascii=False).encode())
    assert api.deploy(("report_up.bpmn", REPORT_UP), form).status_code == 201
    instance_id = api.start("report_up", {"place": county.code("v11"), **CASE}).get_json()["id"]
    clerk = api_for(app, "v11_window_clerk")
    assert clerk.complete(api.open_items(instance_id)["accept"], {"ok": True}).status_code == 200
    return api.open_items(instance_id)["township"]


def open_task(client, item_id: int) -> str:
    response = client.get(f"/desk/items/{item_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def send(client, item_id: int, data: dict, page: str, action: str = "complete"):
    """Post the task form as the browser would, with the page's token and version."""
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {"csrf_token": CSRF.search(page).group(1), "version": version, "action": action}
    return client.post(f"/desk/items/{item_id}", data={**form, **data})


def field_html(page: str, name: str) -> str:
    """The block the template draws for one field."""
    match = re.search(rf'data-field="{name}">(.*?)(?=data-field=|</form>|id="phrases")', page, re.S)
    assert match, name
    return match.group(1)


def holders(app, username: str, instance_id: int) -> list[str]:
    response = api_for(app, username).get(f"/api/v1/work-items?instance={instance_id}")
    return [i["bpmn_id"] for i in response.get_json()["work_items"]]


# --- the page ------------------------------------------------------------------------


def test_reviewer_opens_the_task_from_the_worklist_and_reads_the_case(app, township_item):
    client = signed_in(app, "t1_reviewer")
    worklist = client.get("/desk/").get_data(as_text=True)
    assert f'href="/desk/items/{township_item["id"]}">乡镇初审</a>' in worklist

    page = open_task(client, township_item["id"])
    summary = re.search(r'id="case-summary">(.*?)</dl>', page, re.S).group(1)
    assert "490102202611220001" in summary and "张三" in summary and "矿产品加工资格证" in summary
    history = re.search(r'id="task-history">(.*?)</table>', page, re.S).group(1)
    assert "受理登记" in history and "东关村代办点window_clerk" in history
    # the process by its name (this one has none: its id), never an instance number
    assert "report_up" in page and f"#{township_item['instance']}" not in page


def test_the_form_has_chinese_labels_required_marks_and_fitting_inputs(app, township_item):
    page = open_task(signed_in(app, "t1_reviewer"), township_item["id"])
    decision = field_html(page, "decision")
    assert "初审结论" in decision and decision.count('type="radio"') == 3
    assert 'class="text-danger" title="必填">*' in decision and "required" in decision
    assert "<select" in field_html(page, "product_type")
    assert "石灰及石灰石制品" in field_html(page, "product_type")
    assert 'type="date"' in field_html(page, "review_date")
    area = field_html(page, "site_area")
    assert 'type="number"' in area and 'step="1"' in area and 'min="1"' in area
    assert "<textarea" in field_html(page, "opinion") and 'maxlength="2000"' in page
    correction = field_html(page, "correction_items")
    assert "选择“需补正”时必填" in correction and 'title="必填"' not in correction
    applicant = field_html(page, "applicant_name")
    assert "张三" in applicant and 'name="applicant_name"' not in applicant
    for phrase in ("同意。", "情况属实，同意办理。", "材料不全，请补正。"):
        assert f'data-phrase="{phrase}"' in page
    assert ">提交</button>" in page and ">保存草稿</button>" in page


def test_a_missing_field_is_reported_next_to_it_and_changes_nothing(app, api, township_item):
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    before = api.instance(township_item["instance"])["revision"]
    typed = {"decision": "approve", "opinion": "", "review_date": "2026-11-23", "site_area": "12"}
    response = send(client, township_item["id"], typed, page)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    opinion = field_html(html, "opinion")
    assert "is-invalid" in opinion and "此项为必填项" in opinion
    assert "is-invalid" not in field_html(html, "review_date")
    assert 'value="approve" checked' in field_html(html, "decision")
    assert 'value="2026-11-23"' in field_html(html, "review_date")
    assert 'value="12"' in field_html(html, "site_area")
    assert api.instance(township_item["instance"])["revision"] == before
    still = api.open_items(township_item["instance"])["township"]
    assert (still["status"], still["version"]) == ("open", township_item["version"])


def test_a_conditional_field_becomes_required_and_a_wrong_number_is_named(app, township_item):
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    typed = {**GOOD, "decision": "return", "site_area": "十二"}
    html = send(client, township_item["id"], typed, page).get_data(as_text=True)
    correction = field_html(html, "correction_items")
    assert "此项为必填项" in correction and 'title="必填">*' in correction
    assert "类型不正确" in field_html(html, "site_area")
    assert 'value="十二"' in field_html(html, "site_area")


def test_fixing_it_completes_and_the_next_person_has_the_work(app, api, township_item):
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    bad = send(client, township_item["id"], {**GOOD, "opinion": ""}, page)
    response = send(client, township_item["id"], GOOD, bad.get_data(as_text=True))

    assert response.status_code == 302 and response.headers["Location"].endswith("/desk/")
    assert "已办理：乡镇初审" in client.get("/desk/").get_data(as_text=True)
    instance_id = township_item["instance"]
    assert holders(app, "zrzy_kc_reviewer", instance_id) == ["county_review"]
    assert holders(app, "t1_reviewer", instance_id) == []

    county_item = api.open_items(instance_id)["county_review"]
    next_page = open_task(signed_in(app, "zrzy_kc_reviewer"), county_item["id"])
    history = re.search(r'id="task-history">(.*?)</table>', next_page, re.S).group(1)
    assert "同意，报县级审查" in history and "选址合理，材料齐全。" in history
    # The diagram gives this step no form: a 办理意见 is asked, not copied from 乡镇初审.
    opinion = field_html(next_page, "opinion")
    assert "办理意见" in opinion and "选址合理" not in opinion


def test_a_stale_version_gets_the_conflict_message(app, api, township_item):
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    item_url = f"/api/v1/work-items/{township_item['id']}"
    assert api.post(f"{item_url}/claim").status_code == 200
    assert api.post(f"{item_url}/release").status_code == 200
    before = api.instance(township_item["instance"])["revision"]

    response = send(client, township_item["id"], GOOD, page)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "在您打开后已被修改" in html and 'href="/desk/"' in html
    assert "选址合理，材料齐全。" in html  # what they typed, to copy
    assert api.instance(township_item["instance"])["revision"] == before
    assert api.open_items(township_item["instance"])["township"]["status"] == "open"


def test_work_done_meanwhile_by_the_backup_gets_the_conflict_message(
    app, api, county, session, township_item
):
    holder, backup = county.users["t1_reviewer"], county.users["t1_handler"]
    session.add(Backup(holder_id=holder.id, backup_id=backup.id, valid_from=utcnow()))
    session.commit()
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    backup_client = signed_in(app, "t1_handler")
    backup_page = open_task(backup_client, township_item["id"])
    assert f"代 {holder.display_name} 办理" in backup_page
    assert send(backup_client, township_item["id"], GOOD, backup_page).status_code == 302

    response = send(client, township_item["id"], GOOD, page)
    assert response.status_code == 409
    assert "该待办已办结（t1_handler），不能再次办理。" in response.get_data(as_text=True)
    county_item = api.open_items(township_item["instance"])["county_review"]
    history = open_task(signed_in(app, "zrzy_kc_reviewer"), county_item["id"])
    assert "城关镇便民服务中心handler 代 城关镇便民服务中心reviewer 办理" in history


def test_another_townships_clerk_gets_403(app, township_item):
    for username in ("t2_window_clerk", "t2_reviewer"):
        client = signed_in(app, username)
        assert client.get(f"/desk/items/{township_item['id']}").status_code == 403
        token = CSRF.search(client.get("/desk/").get_data(as_text=True)).group(1)
        form = {"csrf_token": token, "version": township_item["version"], **GOOD}
        assert client.post(f"/desk/items/{township_item['id']}", data=form).status_code == 403


def test_a_completed_task_is_shown_read_only_to_who_did_it(app, township_item):
    client = signed_in(app, "t1_reviewer")
    send(client, township_item["id"], GOOD, open_task(client, township_item["id"]))
    page = open_task(client, township_item["id"])
    assert "已办结" in page and 'id="task-form"' not in page
    assert "同意，报县级审查" in field_html(page, "decision")
    outsider = signed_in(app, "t2_reviewer")
    assert outsider.get(f"/desk/items/{township_item['id']}").status_code == 403


def test_drafts_round_trip_for_their_author_only(app, api, session, township_item):
    client = signed_in(app, "t1_reviewer")
    page = open_task(client, township_item["id"])
    before = api.instance(township_item["instance"])["revision"]
    draft = {"decision": "reject", "opinion": "场地尚未硬化，", "site_area": ""}
    response = send(client, township_item["id"], draft, page, action="draft")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/desk/items/{township_item['id']}")
    again = open_task(client, township_item["id"])
    assert "草稿已保存" in again and "已载入您" in again
    assert 'value="reject" checked' in field_html(again, "decision")
    assert "场地尚未硬化，</textarea>" in field_html(again, "opinion")
    assert api.instance(township_item["instance"])["revision"] == before

    admin = signed_in(app, "admin", "password-admin")
    assert "场地尚未硬化" not in open_task(admin, township_item["id"])

    assert send(client, township_item["id"], GOOD, again).status_code == 302
    assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0


def test_a_step_without_a_form_asks_for_an_opinion(app, api, county):
    plain = laned("plain", ("村 窗口受理员", user("check", "核对")))
    assert api.deploy(("plain.bpmn", plain)).status_code == 201
    instance_id = api.start("plain", {"place": county.code("v11")}).get_json()["id"]
    item = api.open_items(instance_id)["check"]
    client = signed_in(app, "v11_window_clerk")
    page = open_task(client, item["id"])
    assert "办理意见" in field_html(page, "opinion")
    assert send(client, item["id"], {"opinion": "情况属实，同意办理。"}, page).status_code == 302
    assert api.instance(instance_id)["status"] == "completed"


# --- the schema bridge -------------------------------------------------------------------


def test_parse_converts_values_by_the_schema():
    schema = {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "agreed": {"type": "boolean"},
            "visited": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "note": {"type": "string"},
            "level": {"type": "integer", "oneOf": [{"const": 1, "title": "一级"}]},
            "checks": {"type": "array", "items": {"enum": ["fire", "env", "health"]}},
            "result": {"type": "string", "readOnly": True},
        },
    }
    form = MultiDict(
        [
            ("count", " 12 "),
            ("ratio", "0.5"),
            ("agreed", "true"),
            ("day", "2026-11-23"),
            ("at", "2026-11-23T09:30"),
            ("note", ""),
            ("level", "1"),
            ("checks", "fire"),
            ("checks", "health"),
            ("result", "tampered"),
        ]
    )
    assert parse(schema, form) == {
        "count": 12,
        "ratio": 0.5,
        "agreed": True,
        "visited": False,
        "day": "2026-11-23",
        "at": "2026-11-23T09:30:00",
        "level": 1,
        "checks": ["fire", "health"],
    }
    assert parse(schema, MultiDict({"f_count": "3.0"}), prefix="f_")["count"] == 3
    assert (
        "note" not in parse(schema, form) and parse(schema, form, keep_empty=True)["note"] is None
    )


def test_values_that_do_not_convert_are_left_for_the_server_to_name():
    schema = {
        "type": "object",
        "required": ["count"],
        "properties": {"count": {"type": "integer"}, "ratio": {"type": "number"}},
    }
    data = parse(schema, MultiDict({"count": "一二", "ratio": "nan"}))
    assert data == {"count": "一二", "ratio": "nan"}
    with pytest.raises(InvalidTaskData) as refused:
        validate_task_data(schema, data)
    assert refused.value.fields == {"count": "类型不正确", "ratio": "类型不正确"}
    with pytest.raises(InvalidTaskData) as missing:
        validate_task_data(schema, parse(schema, MultiDict({"count": " "})))
    assert missing.value.fields == {"count": "此项为必填项"}


def test_shipped_forms_get_fitting_widgets_and_conditional_hints():
    schema = json.loads((SHIPPED / "joint_review" / "lead_summary.json").read_text("utf-8"))
    drawn = {f.name: f for f in fields(schema)}
    assert drawn["decision"].widget == "radio" and drawn["decision"].required
    assert drawn["opinion"].widget == "textarea"
    assert drawn["correction_items"].widget == "textarea"
    assert not drawn["correction_items"].required
    assert drawn["correction_items"].required_when == "选择“需补正，退回窗口”时必填"
    now = {f.name: f for f in fields(schema, values={"decision": "return"})}
    assert now["correction_items"].required and not now["correction_items"].browser_required

    accept = json.loads((SHIPPED / "joint_review" / "accept.json").read_text("utf-8"))
    drawn = {f.name: f for f in fields(accept, errors={"contact_phone": "格式不正确"})}
    assert drawn["item_name"].text == "公众聚集场所开业联合审查"  # the schema's default
    assert drawn["contact_phone"].error == "格式不正确"
    assert drawn["accept_date"].widget == "date" and drawn["applicant_type"].widget == "radio"
    assert fields(accept, values={"item_name": None})[3].text == ""  # cleared stays cleared


def test_camunda_form_data_is_drawn_too():
    tree = etree.parse(str(DIAGRAMS / "camunda_modeler.bpmn"))
    task = tree.find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    drawn = {f.name: f for f in fields(camunda_form_schema(task), prefix="c_")}
    assert drawn["applicantName"].widget == "text" and drawn["applicantName"].required
    assert drawn["amount"].widget == "integer" and drawn["amount"].attrs["min"] == "1"
    assert drawn["collectiveForest"].widget == "checkbox"
    assert not drawn["collectiveForest"].checked  # Camunda's default is the text "false"
    assert drawn["applyDate"].widget == "date"
    assert drawn["harvestType"].widget == "select"  # four choices
    assert [o.selected for o in drawn["harvestType"].options] == [False, True, False, False]
    assert drawn["amount"].input_name == "c_amount"
