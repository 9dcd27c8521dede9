"""Every shipped diagram walked step by step: each form opens with its own fields only.

A later step never opens with an earlier step's answer in a field it lets the
person write (the 联办件's departments once found the window's 受理意见 in their
审查意见). What a writable field may open with: nothing, the form's own default,
today for a required date, or, for a 受理 step re-opened after 补正, the answers that
step gave itself. Each diagram goes once through its 补正 loop where it has one.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.clock import center_clock
from app.desk import operations
from app.desk.task import prefill, task_schema
from app.engine import platform_runtime
from app.extensions import db
from app.models.cases import Case

from ..cases.test_window_pages import AD, FOOD, JOINT, intake, received, window
from ..conftest import CSRF, SHIPPED, SHIPPED_FOLDERS, signed_in

MINERAL = {
    "f_company_name": "青山县白沙石料厂",
    "f_product_type": "building_stone",
    "f_plant_address": "东河社区北岭",
}
# item code, its window, what the 受理台 asks, and the steps answered 补正 (step, visit)
WALKS = {
    "business_change": ("SCJ-GTGSH-BGDJ", "center_clerk", {}, set()),
    "food_workshop": ("SCJ-SPXZF-DJ", "center_clerk", FOOD, set()),
    "outdoor_ad": ("ZJJ-HWGG-SZSP", "center_clerk", AD, {("Task_FirstReview", 1)}),
    "joint_review": (
        "SCJ-GZJJCS-LHSC",
        "center_clerk",
        {**JOINT, "f_opinion": "窗口受理意见：材料齐全"},
        {("Task_LeadSummary", 1)},
    ),
    "mineral_permit": (
        "ZRZY-KCPJG-HF",
        "v0101_clerk",
        {**MINERAL, "f_opinion": "村代办点受理意见"},
        {("Task_TownshipReview", 1)},
    ),
}
# 监督件: started by a rating, a complaint, a report (app/feedback/), not at the 受理台
FEEDBACK = {
    "rectification": {
        "rated_case_number": "4901022026120100001",
        "rated_item_name": "食品小作坊登记",
        "rating_level": "不满意",
        "rating_comment": "等待时间长",
        "responsible_department": "县市场监督管理局",
    },
    "complaint": {
        "subject_kind": "窗口",
        "subject_name": "3号窗口",
        "subject_case_number": "（无）",
        "content": "窗口无人",
    },
    "cannot_do": {"matter": "迁户口", "where_blocked": "（未填写）", "content": "来回跑"},
}
FEEDBACK_CODES = {"rectification": "ZX-CPZG", "complaint": "ZX-TSCL", "cannot_do": "ZX-BBCS"}
WALKS.update({folder: (FEEDBACK_CODES[folder], None, {}, set()) for folder in FEEDBACK})
CORRECTION = "return"
PATTERNED = ("92490102MA0000000X", "92490102MA00000001", "13900000000")


def test_every_shipped_diagram_is_walked():
    assert set(WALKS) == set(SHIPPED_FOLDERS) == {p.parent.name for p in SHIPPED.glob("*/*.bpmn")}


@pytest.mark.parametrize("folder", sorted(WALKS))
def test_no_step_opens_with_another_steps_answer(app, shipped, session, folder):
    code, clerk, asked, corrections = WALKS[folder]
    if clerk is None:
        number = start_feedback(app, session, code, FEEDBACK[folder])
    else:
        number = received(intake(window(app, clerk), session, code, "accept", extra=asked))
    instance_id = session.scalars(select(Case.instance_id).where(Case.number == number)).one()
    admin = signed_in(app, "admin", "password-admin")
    with app.app_context():
        today = center_clock().today().isoformat()
    answers: list[tuple[str, dict]] = [
        ("受理台", {k.removeprefix("f_"): v for k, v in asked.items()})
    ]
    visits: dict[str, int] = {}
    for _round in range(40):
        open_ids = open_items(app, instance_id)
        if not open_ids:
            break
        item_id = open_ids[0]
        step, schema, properties, opened, writable = opened_with(app, item_id)
        visits[step] = visits.get(step, 0) + 1
        own = own_answers(answers, step) if properties.get("step") == "intake" else {}
        for name, value in opened.items():
            prop = schema["properties"][name]
            allowed = [prop.get("default"), own.get(name)]
            if prop.get("format") == "date" and name in (schema.get("required") or ()):
                allowed.append(today)
            assert value in allowed, (folder, step, name, value)
            for other, given in answers:
                if other != step and name in given and given[name] not in allowed:
                    assert value != given[name], (folder, step, name, other)
        correct = (step, visits[step]) in corrections
        answer = answer_for(schema, writable, step, correct, today)
        submit(admin, item_id, answer)
        answers.append((step, answer))
    else:
        pytest.fail(f"{folder}: the walk did not end")
    assert visits, folder
    assert all(visits.get(step, 0) == 2 for step, _visit in corrections), visits
    # each 补正 asked for was told to the applicant in a 补正材料通知书, with its list
    session.expire_all()
    case = session.scalars(select(Case).where(Case.number == number)).one()
    notices = [d.facts for d in case.documents if d.kind == "correction"]
    asked_lists = [[f"{step}的correction_items"] for step, _visit in sorted(corrections)]
    assert [[m["name"] for m in n["missing"]] for n in notices] == asked_lists, folder


# --- helpers -------------------------------------------------------------------------


def start_feedback(app, session, code: str, data: dict) -> str:
    """A 监督件 as the platform starts it: received and accepted at once."""
    from app.cases import services
    from app.models.items import Item
    from app.models.org import Region

    with app.test_request_context():
        item = db.session.scalars(select(Item).where(Item.code == code)).one()
        county = db.session.scalars(select(Region).where(Region.level == "county")).first()
        intake_ = services.Intake(
            item=item, applicant=services.Applicant.unnamed("13900000000"), place=county, data=data
        )
        case, _password = services.receive(db.session, intake_, None)
        services.accept(db.session, case, None)
        db.session.commit()
        return case.number


def open_items(app, instance_id: int) -> list[int]:
    with app.app_context():
        items = platform_runtime(db.session).open_work_items(instance_id, refresh=True)
        return sorted(i.id for i in items)


def opened_with(app, item_id: int):
    """The step, its form, its properties and its writable fields as the page opens them."""
    with app.test_request_context():
        runtime = platform_runtime()
        item = runtime.work_item(item_id)
        schema = task_schema(runtime, item)
        values = prefill(schema, item, runtime.history(item.instance_id))
        facts = operations.case_facts(db.session, item.instance)
        writable = set(schema.get("properties") or {}) - operations.fixed_fields(schema, facts)
        opened = {k: v for k, v in values.items() if k in writable and v not in (None, "")}
        return item.bpmn_id, schema, dict(item.properties or {}), opened, writable


def own_answers(answers: list[tuple[str, dict]], step: str) -> dict:
    """What a 受理 step answered itself: at the 受理台 or when last opened."""
    mine = [given for who, given in answers if who in (step, "受理台")]
    return mine[-1] if mine else {}


def answer_for(schema: dict, writable: set, step: str, correct: bool, today: str) -> dict:
    """A full answer of the step's writable fields, its texts unique to the step."""
    answer = {}
    for name, prop in (schema.get("properties") or {}).items():
        if name in writable and isinstance(prop, dict) and prop.get("format") != "file":
            answer[name] = value_for(name, prop, step, correct, today)
    return {k: v for k, v in answer.items() if v is not None}


def value_for(name: str, prop: dict, step: str, correct: bool, today: str):
    if prop.get("type") == "array":  # check boxes: the first two options
        items = prop.get("items") or {}
        options = [c.get("const") for c in items.get("oneOf") or []] or items.get("enum") or []
        return options[:2] or None
    choices = [c.get("const") for c in prop.get("oneOf") or []] or prop.get("enum") or []
    if choices:
        if name == "decision" and correct:
            return CORRECTION
        preferred = [c for c in choices if c in ("approve", "agree")]
        return (preferred or choices)[0]
    if prop.get("format") == "date":
        return today
    if prop.get("type") in ("number", "integer"):
        return str(max(1, prop.get("minimum") or 1))
    if prop.get("type") == "boolean":
        return "true"
    if prop.get("pattern"):
        return next((v for v in PATTERNED if re.fullmatch(prop["pattern"], v)), None)
    if prop.get("type") == "string":
        text = f"{step}的{name}"
        return text[: prop.get("maxLength") or len(text)]
    return None


def submit(client, item_id: int, answer: dict) -> None:
    page = client.get(f"/desk/items/{item_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {"csrf_token": CSRF.search(page).group(1), "version": version, "action": "complete"}
    response = client.post(f"/desk/items/{item_id}", data={**form, **answer})
    assert response.status_code == 302, (
        json.dumps(answer, ensure_ascii=False),
        response.get_data(as_text=True)[:3000],
    )


def test_the_departments_review_page_does_not_open_with_the_windows_opinion(app, shipped, session):
    asked = {**JOINT, "f_opinion": "窗口受理意见：材料齐全"}
    number = received(intake(window(app), session, "SCJ-GZJJCS-LHSC", "accept", extra=asked))
    instance_id = session.scalars(select(Case.instance_id).where(Case.number == number)).one()
    admin = signed_in(app, "admin", "password-admin")
    for item_id in open_items(app, instance_id):
        page = admin.get(f"/desk/items/{item_id}").get_data(as_text=True)
        form = page.split('id="task-form"', 1)[1].split("</form>", 1)[0]
        assert "审查意见" in form and "窗口受理意见" not in form
