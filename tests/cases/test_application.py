"""The application at every step, and 补正 at the 受理台 that can be completed.

Reviewers read the applicant's answers under the intake form's own labels and
the steps before them on every task page; the case page shows the same with the
decisions and opinions. A clerk who issues 补正 at 收件 before the applicant has
told everything is shown what is missing, enters it later on the case page, and
can then receive the 补正 and accept.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.cases import services
from app.models.cases import Case, CaseEvent
from app.vocabulary import CaseEventKind

from ..conftest import CSRF, signed_in
from ..county import neighbour_county_user
from .test_window_pages import (
    FOOD,
    act,
    case_of,
    case_page,
    do,
    intake,
    received,
    window,
)

FOOD_ITEM = "SCJ-SPXZF-DJ"
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
REVISION = re.compile(r'name="revision" value="([^"]+)"')


def section(html: str, element_id: str, end: str) -> str:
    match = re.search(rf'id="{element_id}"(.*?){end}', html, re.S)
    assert match, element_id
    return match.group(1)


def task_page(app, username: str, instance_id: int, step: str) -> tuple:
    client = window(app, username)
    desk = client.get("/desk/").get_data(as_text=True)
    item = re.search(rf'data-item="(\d+)" data-bpmn="{step}" data-instance="{instance_id}"', desk)
    assert item, (username, step)
    return client, item.group(1), client.get(f"/desk/items/{item.group(1)}").get_data(as_text=True)


def edit_form(html: str) -> dict:
    """The hidden fields of the case page's #application-edit form."""
    form = section(html, "application-edit", "</form>")
    return {
        "csrf_token": CSRF.search(form).group(1),
        "nonce": NONCE.search(form).group(1),
        "revision": REVISION.search(form).group(1),
    }


def corrections(session, number: str) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.number == number, CaseEvent.kind == CaseEventKind.APPLICATION_CORRECTED)
    )


# --- reading the application -----------------------------------------------------------


def test_a_reviewer_reads_the_intake_answers_under_their_labels(app, shipped, session):
    number = received(intake(window(app), session, FOOD_ITEM, "accept", extra=FOOD))
    instance_id = case_of(session, number).instance_id
    _client, _item, page = task_page(app, "scj_spg_handler", instance_id, "Task_Handle")

    answers = section(page, "application-answers", "</dl>")
    for label, value in (
        ("小作坊名称", "老周豆腐坊"),
        ("生产加工场所地址", "城关街道 3 组"),
        ("生产加工食品类别", "豆制品"),  # the option's title, not its value
    ):
        assert re.search(rf"<dt[^>]*>{label}</dt>\s*<dd[^>]*>.*?{value}", answers, re.S), label
    for internal in ("soy", "workshop_name", "{", "case_number"):
        assert internal not in answers, internal
    # phones get the form first; the application follows it
    assert page.index('id="task-form"') < page.index('id="application-answers"')
    assert page.index('id="task-form"') < page.index('id="task-history"')
    assert 'id="task-materials"' in page


def test_the_case_page_timeline_shows_each_steps_decision_opinion_and_file(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, FOOD_ITEM, "accept", extra=FOOD))
    instance_id = case_of(session, number).instance_id
    handler, item, page = task_page(app, "scj_spg_handler", instance_id, "Task_Handle")
    photo = b"\xff\xd8\xff\xe0" + b"JFIF" + b"\x00" * 64
    done = handler.post(
        f"/desk/items/{item}",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),
            "action": "complete",
            "site_check": "pass",
            "decision": "approve",
            "opinion": "现场核查符合要求",
            "site_photo__upload": (io.BytesIO(photo), "现场照片.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    do(
        app,
        session,
        "scj_spg_reviewer",
        number,
        "Task_Review",
        {"decision": "reject", "opinion": "场所布局不合理"},
    )

    timeline = section(case_page(clerk, number), "case-history", "</table>")
    rows = re.findall(r"<tr>(.*?)</tr>", timeline, re.S)
    handled = next(r for r in rows if re.search(r"<td>承办</td>", r))
    assert "拟准予登记" in handled and "现场核查符合要求" in handled
    link = re.search(r'<a href="([^"]+)"[^>]*>现场照片.jpg</a>', handled)
    assert link and clerk.get(link.group(1)).data == photo
    reviewed = next(r for r in rows if re.search(r"<td>审核</td>", r))
    assert "场所布局不合理" in reviewed and "scj_spg_reviewer" not in reviewed
    assert "受理" in timeline  # the window's own acts are in the same timeline
    # the next step's reviewer reads the same timeline on the task page
    _c, _i, sign = task_page(app, "scj_deputy", instance_id, "Task_Sign")
    history = section(sign, "task-history", "</table>")
    assert "建议不予登记" in history and "场所布局不合理" in history and "现场照片.jpg" in history


# --- 补正 at intake -----------------------------------------------------------------------


def test_correction_at_intake_with_answers_missing_can_be_completed_and_accepted(
    app, shipped, session
):
    clerk = window(app)
    # 受理 needs every answer: all missing ones named at once, nothing stored
    refused = intake(clerk, session, FOOD_ITEM, "accept")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "申请信息填写有误：小作坊名称（此项为必填项）；生产加工场所地址（此项为必填项）" in html
    assert "生产加工食品类别（此项为必填项）" in html
    assert session.scalars(select(Case)).all() == []
    # 收件 with 补正 may leave answers for later, but a given one must be right
    wrong = intake(clerk, session, FOOD_ITEM, "correct", extra={"f_food_category": "tofu"})
    assert wrong.status_code == 422
    assert "生产加工食品类别（取值不在允许的范围内）" in wrong.get_data(as_text=True)
    assert session.scalars(select(Case)).all() == []

    given = {"f_workshop_address": FOOD["f_workshop_address"], "note": "请补充小作坊名称"}
    number = received(intake(clerk, session, FOOD_ITEM, "correct", extra=given))
    case = case_of(session, number)
    assert case.status == "correcting"
    notice = case.documents[-1]
    assert {"name": "申请信息：小作坊名称", "note": "未填写"} in notice.facts["missing"]

    page = case_page(clerk, number)
    missing = section(page, "application-missing", "</div>")
    assert "小作坊名称" in missing and "生产加工食品类别" in missing
    assert "生产加工场所地址" not in missing
    assert 'id="application-edit"' in page

    # 接收补正 while answers are missing names them all and changes nothing
    html = act(clerk, number, "correction_received")
    assert "小作坊名称（此项为必填项）" in html and "生产加工食品类别（此项为必填项）" in html
    assert case_of(session, number).status == "correcting"

    # two wrong answers: both named at once, status 422, nothing stored
    bad = clerk.post(
        f"/cases/{number}/application",
        data={
            **edit_form(page),
            "f_workshop_name": "老" * 101,
            "f_workshop_address": FOOD["f_workshop_address"],
            "f_food_category": "tofu",
        },
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    error = section(html, "application-error", "</div>")
    assert "小作坊名称（内容太长）" in error and "生产加工食品类别（取值不在允许的范围内）" in error
    assert case_of(session, number).data == {"workshop_address": FOOD["f_workshop_address"]}
    assert corrections(session, number) == 0

    done = clerk.post(f"/cases/{number}/application", data={**edit_form(html), **FOOD})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{number}")
    page = clerk.get(done.headers["Location"]).get_data(as_text=True)
    assert "已更正申请信息：小作坊名称、生产加工食品类别" in page
    assert 'id="application-missing"' not in page
    assert "补充更正申请信息" in section(page, "case-history", "</table>")
    assert corrections(session, number) == 1

    assert "已接收补正材料" in act(clerk, number, "correction_received")
    assert "已受理" in act(clerk, number, "accept")
    case = case_of(session, number)
    assert case.status == "accepted"
    assert case.instance.data["workshop_name"] == "老周豆腐坊"
    assert case.instance.data["food_category"] == "soy"


def test_only_the_window_of_the_place_may_edit_the_application(app, shipped, session):
    neighbour_county_user(session, "bs_clerk", "window_clerk")

    clerk = window(app)
    given = {"f_workshop_address": FOOD["f_workshop_address"]}
    number = received(intake(clerk, session, FOOD_ITEM, "correct", extra=given))
    form = {**edit_form(case_page(clerk, number)), **FOOD}

    for outsider in (signed_in(app, "bs_clerk"), window(app, "v0201_clerk")):
        token = CSRF.search(outsider.get("/desk/").get_data(as_text=True)).group(1)
        response = outsider.post(f"/cases/{number}/application", data={**form, "csrf_token": token})
        assert response.status_code == 403
    anonymous = app.test_client().post(f"/cases/{number}/application", data=form)
    assert anonymous.status_code in (302, 400, 401)
    assert case_of(session, number).data == {"workshop_address": FOOD["f_workshop_address"]}
    assert corrections(session, number) == 0


def test_a_double_or_stale_submission_records_one_correction(app, shipped, session):
    clerk = window(app)
    given = {"f_workshop_address": FOOD["f_workshop_address"]}
    number = received(intake(clerk, session, FOOD_ITEM, "correct", extra=given))
    opened = edit_form(case_page(clerk, number))
    other_tab = edit_form(case_page(clerk, number))

    first = clerk.post(f"/cases/{number}/application", data={**opened, **FOOD})
    assert first.status_code == 302
    again = clerk.post(f"/cases/{number}/application", data={**opened, **FOOD})
    assert again.status_code == 302
    assert "已经提交过" in clerk.get(again.headers["Location"]).get_data(as_text=True)
    assert corrections(session, number) == 1

    # a page opened before the correction cannot overwrite it
    stale = clerk.post(
        f"/cases/{number}/application",
        data={**other_tab, **FOOD, "f_workshop_name": "另一个名字"},
    )
    assert stale.status_code == 409
    assert "已被他人修改" in stale.get_data(as_text=True)
    assert case_of(session, number).data["workshop_name"] == "老周豆腐坊"
    assert corrections(session, number) == 1

    # the same answers saved again from a fresh page change nothing and record nothing
    fresh = edit_form(case_page(clerk, number))
    same = clerk.post(f"/cases/{number}/application", data={**fresh, **FOOD})
    assert "申请信息没有变化" in clerk.get(same.headers["Location"]).get_data(as_text=True)
    assert corrections(session, number) == 1


def test_the_application_cannot_be_edited_once_accepted(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, FOOD_ITEM, "accept", extra=FOOD))
    page = case_page(clerk, number)
    assert 'id="application-edit"' not in page
    assert "老周豆腐坊" in section(page, "application-answers", "</dl>")
    token = CSRF.search(page).group(1)
    response = clerk.post(
        f"/cases/{number}/application",
        data={"csrf_token": token, "nonce": "n-accepted", "revision": "x", **FOOD},
    )
    assert response.status_code in (409, 422)
    assert corrections(session, number) == 0


def test_a_deemed_acceptance_leaves_missing_answers_to_the_intake_step(app, shipped, session):
    """Art. 32 accepts an unanswered application whatever it lacks: the process starts,
    and its intake step waits in the window's worklist for the answers."""
    clerk = window(app)
    given = {"f_workshop_address": FOOD["f_workshop_address"]}
    number = received(intake(clerk, session, FOOD_ITEM, "receive", extra=given))
    due = case_of(session, number).decision_due
    with app.app_context():
        assert services.apply_deemed_acceptance(session, due + timedelta(days=1))
        session.commit()
    case = case_of(session, number)
    assert case.status == "accepted" and case.accepted_on_day_received
    accepted = [e for e in events_of(session, case) if e.kind == CaseEventKind.ACCEPTED]
    assert "申请信息不完整" in accepted[0].message

    do(
        app,
        session,
        "center_clerk",
        number,
        "Task_Intake",
        {
            "workshop_name": "老周豆腐坊",
            "workshop_address": "城关街道 3 组",
            "food_category": "soy",
        },
    )
    case = case_of(session, number)
    assert case.instance.data["workshop_name"] == "老周豆腐坊"
    _c, _i, page = task_page(app, "scj_spg_handler", case.instance_id, "Task_Handle")
    assert "豆制品" in section(page, "application-answers", "</dl>")


def events_of(session, case: Case) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
