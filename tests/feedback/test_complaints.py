"""投诉 and 办不成事 registered at the hall's 专窗: each runs its diagram to an answer the
complainant reads with the number and password; an anonymous complainant stays hidden
from everyone but the center."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.cases import Case, CaseEvent
from app.models.feedback import CaseRating
from app.models.items import Item

from ..cases.test_window_pages import case_of, do, window
from ..conftest import CSRF, signed_in

PHONE = "13712345678"


def file_at_window(app, kind: str, username: str = "center_clerk", **form):
    clerk = window(app, username)
    page = clerk.get(f"/feedback/window/{kind}")
    assert page.status_code == 200
    data = {"csrf_token": CSRF.search(page.get_data(as_text=True)).group(1), **form}
    return clerk.post(f"/feedback/window/{kind}", data=data)


def filed(response) -> tuple[str, str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    html = response.get_data(as_text=True)
    number = re.search(r'id="voice-number">(\d{19})<', html).group(1)
    password = re.search(r'id="voice-password">(\d{6})<', html).group(1)
    return number, password


def track(app, number: str, password: str) -> str:
    client = app.test_client()
    page = client.get("/verify/case").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(
        "/verify/case", data={"csrf_token": token, "number": number, "password": password}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_anonymous_complaint_runs_to_its_answer_and_stays_anonymous(app, shipped, session):
    number, password = filed(
        file_at_window(
            app,
            "complaint",
            phone=PHONE,
            subject_kind="department",
            subject_name="县市场监督管理局登记窗口",
            content="窗口让我跑了三次，每次说缺不同的材料。",
        )
    )
    case = case_of(session, number)
    assert (case.item.code, case.status, case.applicant_name) == ("ZX-TSCL", "accepted", "匿名")
    assert case.applicant_phone == PHONE and case.instance.data["contact_phone"] is None
    assert case.data["content"].startswith("窗口让我跑了三次")
    assert case.documents == []

    do(app, session, "center_reviewer", number, "Task_Assign", {
        "handling_department": "县市场监督管理局", "opinion": "请市场监管局调查处理。",
    })  # fmt: skip
    # the department handling it never learns who complained, nor does the window
    for username in ("scj_reviewer", "center_clerk"):
        page = signed_in(app, username, "demo12345").get(f"/cases/{number}")
        if page.status_code == 200:
            text = page.get_data(as_text=True)
            assert PHONE not in text and PHONE[-4:] not in text, username
            assert "联系方式仅政务服务中心可见" in text
    center = signed_in(app, "center_reviewer", "demo12345").get(f"/cases/{number}")
    assert PHONE in center.get_data(as_text=True)

    do(app, session, "scj_reviewer", number, "Task_Handle", {
        "findings": "经查，窗口人员未一次性告知，已批评教育。",
    })  # fmt: skip
    progress = track(app, number, password)
    assert "答复" in progress  # the current step, told to the complainant
    do(app, session, "center_reviewer", number, "Task_Reply", {
        "reply": "您反映的问题属实，已责成窗口一次性告知并道歉。",
    })  # fmt: skip
    do(app, session, "center_reviewer", number, "Task_Callback", {
        "satisfaction": "satisfied", "callback_note": "投诉人表示满意。",
    })  # fmt: skip
    case = case_of(session, number)
    assert case.status == "delivered" and case.closed_at is not None
    answer = track(app, number, password)
    assert "已责成窗口一次性告知并道歉" in answer


def test_a_cannot_do_report_meets_the_departments_and_is_done_at_once(app, shipped, session):
    number, _password = filed(
        file_at_window(
            app,
            "cannot-do",
            name="李秀英",
            phone=PHONE,
            matter="在自家老宅开民宿",
            where_blocked="住建局说要先消防，消防说要先住建",
            content="两个部门互相要求先办对方的手续。",
        )
    )
    case = case_of(session, number)
    assert (case.item.code, case.applicant_name) == ("ZX-BBCS", "李秀英")
    assert case.instance.data["contact_phone"] == PHONE  # named: handlers may call back
    do(app, session, "center_reviewer", number, "Task_Register", {
        "departments": ["县住房和城乡建设局", "县消防救援大队"], "opinion": "请两部门会商。",
    })  # fmt: skip
    do(app, session, "zjj_reviewer", number, "Task_Consult", {
        "can_do": "conditional", "opinion": "可并联办理，不必等待消防意见。",
    })  # fmt: skip
    do(app, session, "xf_reviewer", number, "Task_Consult", {
        "can_do": "yes", "opinion": "同意并联，现场一次踏勘。",
    })  # fmt: skip
    do(app, session, "center_deputy", number, "Task_Decide", {
        "outcome": "now", "answer": "两部门并联办理，本周内联合踏勘。",
    })  # fmt: skip
    do(app, session, "center_reviewer", number, "Task_FollowUp", {
        "satisfaction": "satisfied", "callback_note": "已联合踏勘，手续办结。",
    })  # fmt: skip
    case = case_of(session, number)
    assert case.status == "delivered"
    answers = session.scalars(
        select(CaseEvent.message).where(CaseEvent.case_id == case.id, CaseEvent.kind == "decided")
    ).all()
    assert answers == ["马上办：两部门并联办理，本周内联合踏勘。"]
    views = case.instance.data["views"]
    assert {v["department"] for v in views} == {"县住房和城乡建设局", "县消防救援大队"}


def test_the_window_form_refuses_bad_input_and_keeps_what_was_typed(app, shipped, session):
    missing = file_at_window(app, "complaint", content="", phone="123", subject_kind="case")
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert "请写明具体情况" in html and "被投诉的办件编号" in html
    unknown = file_at_window(
        app, "complaint", phone=PHONE, subject_kind="case",
        subject_case_number="4901022026010100001", content="<b>没人理</b>",
    )  # fmt: skip
    text = unknown.get_data(as_text=True)
    assert unknown.status_code == 422 and "未找到该办件编号" in text
    assert "&lt;b&gt;没人理&lt;/b&gt;" in text  # kept, escaped
    too_long = file_at_window(app, "cannot-do", phone=PHONE, matter="办证", content="长" * 2001)
    assert too_long.status_code == 422
    assert session.scalar(select(Case.id).where(Case.item.has(kind="feedback"))) is None
    assert window(app).get("/feedback/window/praise").status_code == 404


def test_the_window_pages_need_a_window_post(app, shipped):
    anonymous = app.test_client().get("/feedback/window/complaint")
    assert anonymous.status_code in (302, 401)
    reviewer = signed_in(app, "scj_reviewer", "demo12345")
    assert reviewer.get("/feedback/window/complaint").status_code == 403


def test_feedback_items_are_not_received_at_the_intake_desk(app, shipped, session):
    clerk = window(app)
    intake = clerk.get("/cases/intake").get_data(as_text=True)
    assert "投诉处理" not in intake and "差评整改" not in intake
    # a forged post naming a 监督件 is refused and receives nothing
    complaint = session.scalars(select(Item.id).where(Item.code == "ZX-TSCL")).one()
    token = CSRF.search(intake).group(1)
    forged = clerk.post(
        "/cases/intake",
        data={"csrf_token": token, "item": complaint, "action": "receive",
              "applicant_type": "person", "applicant_name": "周建华",
              "applicant_id_number": "11010519491231002X", "applicant_phone": PHONE},
    )  # fmt: skip
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/cases/intake")
    assert session.scalar(select(Case.id).where(Case.item_id == complaint)) is None


def test_the_board_lists_the_three_apart_with_cards_when_overdue(app, shipped, session):
    from ..supervision.test_board import board, numbers_on
    from ..supervision.test_warnings import CALENDAR, issue, noon_on
    from .test_ratings import finished_case, rate

    rated = finished_case(app, session)
    assert rate(app.test_client(), rated, level="1", comment="态度差").status_code == 200
    complaint, _ = filed(
        file_at_window(app, "complaint", phone=PHONE, subject_kind="window",
                       subject_name="3号窗口", content="无人值守")
    )  # fmt: skip
    report, _ = filed(
        file_at_window(app, "cannot-do", phone=PHONE, matter="迁户口", content="来回跑")
    )
    session.expire_all()
    rectification = session.scalars(select(CaseRating)).one().rectification.number
    ours = {rectification, complaint, report}
    # nobody answers: each step's limit and the promised date pass
    promised = max(case_of(session, n).promised_date for n in ours)
    issued = issue(app, noon_on(CALENDAR.add_workdays(promised, 1)))
    assert ("case", "red") in issued
    inspector = signed_in(app, "center_inspector", "demo12345")
    feedback = board(inspector, "kind=feedback")
    assert set(numbers_on(feedback)) == ours
    for number in ours:
        row = feedback.split(f'data-case="{number}"')[1].split("</tr>")[0]
        assert "红牌" in row, number
    assert not set(numbers_on(board(inspector, "kind=approval"))) & ours
    assert set(numbers_on(board(inspector, ""))) >= ours
    assert "监督件" in feedback and 'id="board-kind"' in feedback
