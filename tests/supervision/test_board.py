"""The supervisor's board, 督办, the points ledger and the holders' notifications, as pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.report import check
from app.models.notifications import Notification
from app.models.supervision import Deduction

from ..cases.test_window_pages import act, case_of, intake, received, window
from ..conftest import CSRF, DEMO_PASSWORD, signed_in
from .test_warnings import AD, CALENDAR, issue, noon_on


def board(client, query: str = "") -> str:
    response = client.get(f"/supervision/?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def numbers_on(html: str) -> list[str]:
    return re.findall(r'data-case="(\d{19})"', html)


def test_red_cards_first_with_counts_filters_and_the_ledger(app, shipped, session):
    clerk = window(app)
    late, on_time = (
        received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD)) for _ in range(2)
    )
    promised = case_of(session, late).promised_date
    # the on-time one is paused for an expert review; the other runs late
    act(clerk, on_time, "special", {"procedure": "专家评审", "reason": "结构安全论证"})
    assert issue(app, noon_on(CALENDAR.add_workdays(promised, 2))) == [
        ("case", "yellow"),
        ("case", "red"),
    ]

    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    html = board(inspector)
    assert numbers_on(html) == [late, on_time]
    counts = dict(
        re.findall(r'data-level="(\w+)".*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
    )
    assert counts == {"red": "1", "yellow": "0", "none": "1"}
    assert "办件红牌" in html.split(f'data-case="{late}"')[1].split("</tr>")[0]
    assert numbers_on(board(inspector, "level=red")) == [late]
    assert numbers_on(board(inspector, "level=none")) == [on_time]
    assert numbers_on(board(inspector, "green=1")) == []
    from app.models.org import Region

    town = session.scalars(select(Region).where(Region.code == "490102100000")).one()
    other = session.scalars(select(Region).where(Region.code == "490102101000")).one()
    assert numbers_on(board(inspector, f"region={town.id}")) == [late, on_time]
    assert numbers_on(board(inspector, f"region={other.id}")) == []

    # 督办 reaches the handler holding the open step and is on the case's record
    page = inspector.get(f"/cases/{late}").get_data(as_text=True)
    assert 'id="urge-form"' in page and 'id="case-cards"' in page
    urged = inspector.post(
        f"/supervision/cases/{late}/urge",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "message": "请今天办结",
            "step": "Task_FirstReview",
        },
    )
    assert urged.status_code == 302
    handler = signed_in(app, "zjj_handler", DEMO_PASSWORD)
    inbox = handler.get("/notifications/").get_data(as_text=True)
    assert "督办" in inbox and "请今天办结" in inbox and "红牌" in inbox
    mine = session.scalars(select(Notification).where(Notification.username == "zjj_handler")).all()
    assert {n.kind for n in mine} == {"warning", "urge"}
    handler.post("/notifications/read", data={"csrf_token": CSRF.search(inbox).group(1)})
    session.expire_all()
    assert all(
        n.read_at is not None
        for n in session.scalars(select(Notification).where(Notification.username == "zjj_handler"))
    )
    assert "督办" in inspector.get(f"/cases/{late}").get_data(as_text=True)
    assert window(app).get("/supervision/").status_code == 403

    # the ledger: one department deduction, reversed once with a reason
    ledger = inspector.get("/supervision/deductions").get_data(as_text=True)
    assert "县住房和城乡建设局" in ledger
    deduction = session.scalars(select(Deduction)).one()
    token = CSRF.search(ledger).group(1)
    deduction_id = deduction.id
    url = f"/supervision/deductions/{deduction_id}/reverse"
    empty = inspector.get(inspector.post(url, data={"csrf_token": token}).headers["Location"])
    assert "请填写冲销理由" in empty.get_data(as_text=True)
    done = inspector.post(url, data={"csrf_token": token, "reason": "系统停电导致超期"})
    assert "已冲销" in inspector.get(done.headers["Location"]).get_data(as_text=True)
    again = inspector.post(url, data={"csrf_token": token, "reason": "再次冲销"})
    assert "该扣分已冲销" in inspector.get(again.headers["Location"]).get_data(as_text=True)
    assert len(session.scalars(select(Deduction)).all()) == 2

    # the ledger is covered by the audit chain, both rows as written
    report = check(session)
    assert report.intact and report.count > 0


def test_a_supervisor_suspends_a_case_and_its_work_waits(app, shipped, session):
    from sqlalchemy import select as sql_select

    from app.models.cases import CasePause

    from ..cases.test_window_pages import JOINT, act, do
    from ..conftest import api_for

    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)

    def suspend(data):
        page = inspector.get(f"/cases/{number}").get_data(as_text=True)
        response = inspector.post(
            f"/supervision/cases/{number}/suspend",
            data={"csrf_token": CSRF.search(page).group(1), **data},
        )
        return inspector.get(response.headers["Location"]).get_data(as_text=True)

    assert "请填写挂起理由" in suspend({"change": "suspend", "reason": ""})
    assert "已挂起" in suspend({"change": "suspend", "reason": "申请人涉诉，等待法院裁定"})
    outsider = window(app)
    token = CSRF.search(outsider.get(f"/cases/{number}").get_data(as_text=True)).group(1)
    denied = outsider.post(
        f"/supervision/cases/{number}/suspend", data={"csrf_token": token, "reason": "窗口越权"}
    )
    assert denied.status_code == 403  # windows cannot suspend

    # the fire brigade cannot complete, through the page or the API; the window cannot resume
    case = case_of(session, number)
    fire = api_for(app, "xf_reviewer")
    items = fire.get(f"/api/v1/work-items?instance={case.instance_id}").get_json()["work_items"]
    refused = fire.post(
        f"/api/v1/work-items/{items[0]['id']}/complete",
        json={"data": {"decision": "approve", "opinion": "同意"}, "version": items[0]["version"]},
    )
    assert refused.status_code == 409 and "挂起" in refused.get_json()["error"]["message"]
    page = act(clerk, number, "resume", {"note": "窗口想恢复"})
    assert "没有正在进行的特别程序" in page
    assert "挂起" in window(app).get(f"/cases/{number}").get_data(as_text=True)

    assert "已恢复办理" in suspend({"change": "resume", "note": "裁定已出"})
    pause = session.scalars(sql_select(CasePause)).one()
    assert pause.kind == "suspended" and pause.ended_at is not None
    do(
        app,
        session,
        "xf_reviewer",
        number,
        "Task_DeptReview_Fire",
        {"decision": "approve", "opinion": "同意"},
    )
    history = inspector.get(f"/cases/{number}").get_data(as_text=True)
    assert "挂起" in history and "恢复计时" in history


def test_a_supervisor_of_another_county_sees_nothing_of_this_one(app, shipped, session):
    from ..cases.test_window_pages import JOINT, do
    from ..county import neighbour_county_user

    neighbour_county_user(session, "bs_inspector", "inspector")

    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    do(
        app,
        session,
        "xf_reviewer",
        number,
        "Task_DeptReview_Fire",
        {"decision": "approve", "opinion": "同意"},
    )
    stranger = signed_in(app, "bs_inspector")
    html = board(stranger)
    assert numbers_on(html) == [] and "白石县" in html
    assert stranger.get(f"/cases/{number}").status_code == 403
    assert stranger.get(f"/supervision/cases/{number}/audit").status_code == 403
    assert stranger.get(f"/cases/{number}/diagram").status_code == 403
    assert (
        stranger.get("/supervision/deductions").get_data(as_text=True).count("data-deduction=") == 0
    )
    page = stranger.get("/supervision/").get_data(as_text=True)
    assert (
        stranger.post(
            f"/supervision/cases/{number}/urge",
            data={"csrf_token": CSRF.search(page).group(1), "message": "越权督办"},
        ).status_code
        == 403
    )
    # while this county's own inspector sees it
    assert numbers_on(board(signed_in(app, "center_inspector", DEMO_PASSWORD))) == [number]
