"""好差评: a finished case rated from its notice's QR code with the query password; a
bad grade runs 差评整改 (核实 → 整改 → 回访) as an ordinary case; the results are public."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.cases.services import query_password_digest
from app.models.cases import Case
from app.models.feedback import CaseRating
from app.models.org import Department

from ..cases.test_window_pages import case_of, deliver, do, intake, received, window
from ..conftest import CSRF

PASSWORD = "246802"
DECIDE = {
    "change_type": "premises",
    "change_detail": "城关街道 3 组 → 解放路 12 号",
    "decision": "approve",
    "opinion": "材料齐全，准予变更。",
    "registration_no": "92490102MA0000001X",
}


def finished_case(app, session, *, deliver_it=True) -> str:
    """A 即办件 decided at the window (and delivered), its query password ``PASSWORD``."""
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    do(app, session, "center_clerk", number, "Task_Decide", DECIDE)
    if deliver_it:
        deliver(clerk, session, number)
    with app.app_context():
        case = case_of(session, number)
        case.query_password_hash = query_password_digest(number, PASSWORD)
        session.commit()
    return number


def rate(client, number: str, password: str = PASSWORD, **form):
    page = client.get(f"/rate/{number}")
    assert page.status_code == 200
    # a page without the form (not ready, closed) still lets a forged post be tried
    html = page.get_data(as_text=True)
    token = CSRF.search(html) or CSRF.search(client.get("/verify/case").get_data(as_text=True))
    data = {"password": password, "csrf_token": token.group(1), **form}
    return client.post(f"/rate/{number}", data=data)


def rating_of(session, number: str) -> CaseRating:
    session.expire_all()
    return session.scalars(
        select(CaseRating).join(Case, Case.id == CaseRating.case_id).where(Case.number == number)
    ).one()


def test_a_bad_grade_from_the_code_runs_the_rectification_to_the_callback(app, shipped, session):
    number = finished_case(app, session)
    # the 送达回证 carries the code that opens the rating page
    clerk = window(app)
    delivery = next(d for d in case_of(session, number).documents if d.kind == "delivery")
    notice = clerk.get(f"/cases/{number}/documents/{delivery.id}").get_data(as_text=True)
    assert f"/rate/{number}" in notice and 'id="rating-code"' in notice
    assert "data:image/svg+xml" in notice

    visitor = app.test_client()
    wrong = rate(visitor, number, "000000", level="2")
    assert wrong.status_code == 403 and "查询密码不正确" in wrong.get_data(as_text=True)
    done = rate(visitor, number, level="2", tags=["等待时间长", "多次跑腿"], comment="排队两小时")
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    text = done.get_data(as_text=True)
    assert "感谢您的评价" in text and "差评整改" in text

    rating = rating_of(session, number)
    assert (rating.level, rating.first_level, rating.channel) == ("2", "2", "code")
    assert rating.tags == ["等待时间长", "多次跑腿"]
    assert rating.department.name == "县市场监督管理局"
    assert rating.window.name == "综合受理窗口"
    assert rating.handlers == ["center_clerk"]
    fix = rating.rectification
    assert fix.item.code == "ZX-CPZG" and fix.status == "accepted" and fix.channel == "rating"
    assert fix.promised_date is not None and fix.applicant_name == "周建华"
    assert fix.data["rated_case_number"] == number
    assert "排队两小时" in fix.data["rating_comment"]
    assert [d.kind for d in fix.documents] == []  # no 凭证, no 受理通知书

    do(app, session, "center_reviewer", fix.number, "Task_Verify", {
        "finding": "justified", "opinion": "窗口高峰期只开一个窗口，属实。",
    })  # fmt: skip
    do(app, session, "scj_reviewer", fix.number, "Task_Rectify", {
        "measures": "高峰期增开两个窗口，推行预约办理。",
    })  # fmt: skip
    assert rating_of(session, number).rectified_at is not None
    do(app, session, "center_reviewer", fix.number, "Task_Callback", {
        "reached": "yes", "new_level": "4", "callback_note": "申请人认可整改，改评满意。",
    })  # fmt: skip
    fix = case_of(session, fix.number)
    assert fix.status == "delivered" and fix.closed_at is not None
    rating = rating_of(session, number)
    assert (rating.level, rating.first_level, rating.channel) == ("4", "2", "callback")
    history = case_page_events(session, number)
    assert "评价：不满意（扫码评价）" in history and "回访后重新评价：不满意 → 满意" in history

    results = app.test_client().get("/rate/results").get_data(as_text=True)
    row = re.search(r'data-department="县市场监督管理局">(.*?)</tr>', results, re.S).group(1)
    cells = re.findall(r'class="text-end">([^<]*)<', row)
    assert cells == ["1", "100.00%", "1", "1"]
    assert "周建华" not in results and number not in results


def case_page_events(session, number: str) -> str:
    from app.models.cases import CaseEvent

    case = case_of(session, number)
    return "\n".join(
        e.message
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    )


def test_an_unjustified_bad_grade_is_closed_with_its_reason_and_kept(app, shipped, session):
    number = finished_case(app, session)
    assert rate(app.test_client(), number, level="1", comment="不想等").status_code == 200
    fix = rating_of(session, number).rectification
    do(app, session, "center_reviewer", fix.number, "Task_Verify", {
        "finding": "unjustified", "opinion": "当日系统检修已提前公告，窗口按规定办理。",
    })  # fmt: skip
    fix = case_of(session, fix.number)
    assert fix.status == "delivered"
    assert "差评反映的问题不属实" in case_page_events(session, fix.number)
    rating = rating_of(session, number)
    assert rating.level == "1" and rating.rectified_at is None  # kept, not deleted
    results = app.test_client().get("/rate/results").get_data(as_text=True)
    row = re.search(r'data-department="县市场监督管理局">(.*?)</tr>', results, re.S).group(1)
    assert re.findall(r'class="text-end">([^<]*)<', row) == ["1", "0.00%", "1", "0"]


def test_one_rating_per_case_changeable_for_seven_days(app, shipped, session):
    number = finished_case(app, session)
    visitor = app.test_client()
    assert rate(visitor, number, level="5", tags=["一次办成"]).status_code == 200
    page = visitor.get(f"/rate/{number}").get_data(as_text=True)
    assert "本办件已评价" in page
    changed = rate(visitor, number, level="4")
    assert changed.status_code == 200
    rating = rating_of(session, number)
    assert (rating.level, rating.first_level, rating.changed_at is not None) == ("4", "5", True)
    assert rating.rectification_case_id is None
    assert session.scalar(select(CaseRating.id).where(CaseRating.case_id == rating.case_id))
    with time_machine.travel(rating.rated_at + timedelta(days=8), tick=False):
        late = visitor.get(f"/rate/{number}").get_data(as_text=True)
        assert "已超过修改期限" in late
        refused = rate(visitor, number, level="1", comment="改差评")
        assert refused.status_code == 409
    assert rating_of(session, number).level == "4"


def test_bad_input_is_refused_and_nothing_is_lost(app, shipped, session):
    undelivered = finished_case(app, session, deliver_it=False)  # decided: may be rated
    visitor = app.test_client()
    no_level = rate(visitor, undelivered, comment="很好")
    assert no_level.status_code == 422 and "请选择评价等级" in no_level.get_data(as_text=True)
    assert "很好" in no_level.get_data(as_text=True)  # what was typed stays
    no_reason = rate(visitor, undelivered, level="1")
    assert no_reason.status_code == 422 and "不满意的原因" in no_reason.get_data(as_text=True)
    too_long = rate(visitor, undelivered, level="5", comment="好" * 501)
    assert too_long.status_code == 422
    forged_tag = rate(visitor, undelivered, level="5", tags=["<script>"])
    assert forged_tag.status_code == 200  # unknown tags are dropped, not stored
    assert rating_of(session, undelivered).tags == []
    hostile = rate(visitor, undelivered, level="4", comment="<script>alert(1)</script>")
    assert "<script>alert(1)" not in hostile.get_data(as_text=True)
    assert visitor.get("/rate/0000000000000000000").status_code == 404


def test_a_case_not_finished_cannot_be_rated_and_guessing_is_throttled(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    with app.app_context():
        case_of(session, number).query_password_hash = query_password_digest(number, PASSWORD)
        session.commit()
    visitor = app.test_client()
    assert "办结后才能评价" in visitor.get(f"/rate/{number}").get_data(as_text=True)
    assert rate(visitor, number, level="5").status_code == 409
    for attempt in range(10):
        assert rate(visitor, number, f"{attempt:06d}", level="5").status_code == 403
    blocked = rate(visitor, number, level="5")
    assert blocked.status_code == 429 and "尝试过于频繁" in blocked.get_data(as_text=True)
    assert session.scalar(select(CaseRating.id)) is None
    # the departments exist for every rating: the window's, the lead's
    assert session.scalar(select(Department.id).where(Department.name == "综合受理窗口"))
