"""黄牌 / 红牌 against the case's limit and each step's, issued once, with points and notices."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from app.audit.chain import verify
from app.clock import center_clock
from app.extensions import db
from app.items.warning_rules import Rule, RuleError, canonical, parse_rule, rule_text
from app.models.cases import Case, CaseEvent
from app.models.notifications import Notification
from app.models.org import Department
from app.models.supervision import CaseWarning, Deduction
from app.supervision.warnings import LedgerError, issue_warnings, reverse
from workflows import models as wm
from workflows.calendar import WorkCalendar

from ..cases.test_window_pages import AD, JOINT, case_of, do, first_review, intake, received, window
from ..conftest import ROOT

CALENDAR = WorkCalendar()


def noon_on(day: date) -> datetime:
    """12:00 Beijing time on ``day``, as the naive UTC the platform stores."""
    return datetime.combine(day, time(4, 0))


def day_with_left(due: date, left: int) -> date:
    """A working day from which ``left`` working days remain until ``due``."""
    day = due
    while CALENDAR.workdays_between(day, due) < left or not CALENDAR.is_workday(day):
        day -= timedelta(days=1)
    return day


def issue(app, now: datetime) -> list[CaseWarning]:
    with app.app_context():
        issued = issue_warnings(db.session, center_clock(db.session).at(now))
        db.session.commit()
        return [(w.scope, w.level) for w in issued]


def test_rules_are_read_and_checked():
    assert parse_rule("share:0.8") == Rule("share", 0.8)
    assert parse_rule("left:2") == Rule("left", 2)
    assert parse_rule("overdue").reached(10, -1) and not parse_rule("overdue").reached(10, 0)
    assert Rule("share", 0.8).reached(10, 2) and not Rule("share", 0.8).reached(10, 3)
    for bad in ("share:2", "left:-1", "often", "share:x", "已用200%", "剩-1个工作日"):
        with pytest.raises(RuleError):
            parse_rule(bad)


def test_rules_are_written_and_read_in_chinese():
    assert parse_rule("已用80%") == Rule("share", 0.8)
    assert parse_rule("已用 75 ％ 时限") == Rule("share", 0.75)
    assert parse_rule("剩2个工作日") == parse_rule("剩余 2 工作日") == Rule("left", 2)
    assert parse_rule("超期") == Rule("overdue")
    assert [canonical(t) for t in ("已用80%", "剩2个工作日", "超期", "", "left:3")] == [
        "share:0.8",
        "left:2",
        "overdue",
        None,
        "left:3",
    ]
    assert [rule_text(t) for t in ("share:0.8", "left:2", "overdue", None)] == [
        "已用80%",
        "剩2个工作日",
        "超期",
        "",
    ]


def test_a_case_gets_yellow_then_red_once_with_points_and_notices(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    case = case_of(session, number)
    due = case.promised_date  # committed 10 working days
    assert issue(app, noon_on(day_with_left(due, 3))) == []
    yellow_day = noon_on(day_with_left(due, 2))  # 80% used
    assert issue(app, yellow_day) == [("case", "yellow")]
    assert issue(app, yellow_day) == []  # never twice
    notices = session.scalars(select(Notification)).all()
    assert {n.username for n in notices} == {"zjj_handler"}  # who holds the open step
    assert "黄牌" in notices[0].text and notices[0].link == f"/cases/{number}"
    assert session.scalars(select(Deduction)).all() == []

    # the handler claims the step; the case runs late
    handler = api_item(app, case, "zjj_handler")
    session.execute(
        update(wm.WorkItem).where(wm.WorkItem.id == handler).values(assignee="zjj_handler")
    )
    late = noon_on(CALENDAR.add_workdays(due, 1))
    assert issue(app, late) == [("case", "red")]
    assert issue(app, late) == []
    deductions = session.scalars(select(Deduction).order_by(Deduction.id)).all()
    zjj = session.scalars(select(Department).where(Department.name == "县住房和城乡建设局")).one()
    assert [(d.department_id, d.username, d.points) for d in deductions] == [
        (zjj.id, None, Decimal("1")),
        (zjj.id, "zjj_handler", Decimal("1")),
    ]
    kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds.count("warning") == 2
    assert verify(session)[1] is None  # warnings and deductions are in the audit chain
    from app.models.audit import AuditEntry

    ledger = session.scalars(select(AuditEntry).where(AuditEntry.source == "ledger")).all()
    assert [(e.action, e.case_id) for e in ledger] == [("deduction", case.id)] * 2

    # the ledger cannot be edited, only reversed once, with a reason
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE deduction SET points = 0"))
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM deduction"))
    session.rollback()
    with app.app_context():
        first = db.session.get(Deduction, deductions[1].id)
        with pytest.raises(LedgerError):
            reverse(db.session, first, "center_inspector", " ")
        reversal = reverse(db.session, first, "center_inspector", "系统故障导致超期")
        db.session.commit()
        assert reversal.points == Decimal("-1")
        with pytest.raises(LedgerError):
            reverse(db.session, db.session.get(Deduction, first.id), "center_inspector", "再来")
        first.points = Decimal("0")
        with pytest.raises(ValueError):
            db.session.flush()
        db.session.rollback()


def api_item(app, case: Case, username: str) -> int:
    from ..conftest import api_for

    items = api_for(app, username).get(f"/api/v1/work-items?instance={case.instance_id}")
    return items.get_json()["work_items"][0]["id"]


@pytest.mark.moments("wed-0750", "fri-1731", "sep30-2145")
def test_a_step_can_be_late_while_the_case_is_on_time(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    case = case_of(session, number)
    reviews = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == case.instance_id, wm.WorkItem.status == wm.OPEN
        )
    ).all()
    assert {w.bpmn_id for w in reviews} >= {"Task_DeptReview_Fire", "Task_DeptReview_Env"}
    step_due = {w.due_at for w in reviews if w.bpmn_id.startswith("Task_DeptReview")}
    assert len(step_due) == 1  # 5 working days each, from the same moment
    (due_at,) = step_due
    with app.app_context():
        clock = center_clock()
        due = clock.day_of(due_at)
        opened = CALENDAR.next_workday(clock.day_of(case.accepted_at))
    assert CALENDAR.workdays_between(opened, due) == 5

    # fire brigade answers in time; the other two are late
    do(
        app,
        session,
        "xf_reviewer",
        number,
        "Task_DeptReview_Fire",
        {"decision": "approve", "opinion": "同意"},
    )
    issued = issue(app, noon_on(CALENDAR.add_workdays(due, 1)))
    levels = sorted(level for scope, level in issued)
    assert all(scope.startswith("item:") for scope, _level in issued)  # the case is on time
    assert levels == ["red", "red", "yellow", "yellow"]
    steps = {w.step for w in session.scalars(select(CaseWarning))}
    assert steps == {"环保审查", "卫健审查"}
    desk = window(app, "sthj_reviewer").get("/desk/").get_data(as_text=True)
    assert 'data-card="red"' in desk  # in the holder's worklist at once

    # a red card also reaches the late departments' leaders and the center's
    # inspectors, not the department that answered in time nor another township's
    def told(username: str) -> list[str]:
        return list(
            session.scalars(
                select(Notification.text).where(
                    Notification.username == username, Notification.kind == "warning"
                )
            )
        )

    session.expire_all()
    for username in ("sthj_deputy", "sthj_chief", "wjw_chief", "center_inspector"):
        assert any("红牌" in text and number in text for text in told(username)), username
    for username in ("xf_chief", "t02_chief"):
        assert told(username) == [], username
    assert len([t for t in told("center_inspector") if "环保审查" in t and "红牌" in t]) == 1


def test_no_warning_while_the_clock_is_paused(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    due = case_of(session, number).promised_date
    first_review(app, session, number)
    assert issue(app, noon_on(CALENDAR.add_workdays(due, 3))) == []


def test_an_item_sets_its_own_thresholds(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    case = case_of(session, number)
    case.item.warn_yellow = "share:0.5"
    session.commit()
    due = case.promised_date
    assert issue(app, noon_on(day_with_left(due, 5))) == [("case", "yellow")]


SCHEDULER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from app import create_app
    from app.scheduler import fire_timers_job, warnings_job
    url, instance, now, job = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    job = {"warnings": warnings_job, "timers": fire_timers_job}[job]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SECRET_KEY": "t"})
    print("ready", flush=True)
    sys.stdin.readline()  # the test says "go" to both processes at once
    total = 0
    for _ in range(3):
        total += job(app, datetime.fromisoformat(now))
    print(total)
    """
)


def test_two_scheduler_processes_issue_each_card_once(
    app, shipped, session, database_url, tmp_path
):
    clerk = window(app)
    numbers = [
        received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD)) for _ in range(4)
    ]
    due = case_of(session, numbers[0]).promised_date
    late = noon_on(CALENDAR.add_workdays(due, 1)).isoformat()
    totals = run_schedulers(database_url, tmp_path, late, "warnings")
    assert sum(totals) == 8  # 4 cases × (yellow + red), whoever issued them
    warnings = session.scalars(select(CaseWarning)).all()
    assert len(warnings) == 8
    assert len({(w.case_id, w.level) for w in warnings}) == 8
    red = [w.id for w in warnings if w.level == "red"]
    points = session.scalars(select(Deduction).where(Deduction.warning_id.in_(red))).all()
    assert len(points) == 4  # one department deduction per red card (nobody had claimed)
    # each card told once to each person: the yellow to the step's holder, the red
    # also to the department's two leaders and the county's two inspectors
    notes = session.scalars(select(Notification)).all()
    assert len(notes) == len({(n.username, n.text) for n in notes}) == 4 * (1 + 1 + 4)


@pytest.mark.moments("wed-0750", "fri-1731", "sun-1500", "sep30-2145", "2027-0104")
def test_steps_and_cases_show_time_used_and_left(app, shipped, session):
    import re

    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    case = case_of(session, number)
    with app.app_context():
        clock = center_clock()
        today = clock.today()
        step_due = clock.day_of(
            session.scalars(
                select(wm.WorkItem.due_at).where(
                    wm.WorkItem.instance_id == case.instance_id,
                    wm.WorkItem.bpmn_id == "Task_DeptReview_Fire",
                )
            ).one()
        )
    reviewer = window(app, "xf_reviewer")
    desk = reviewer.get("/desk/").get_data(as_text=True)
    assert f"剩余 {CALENDAR.workdays_between(today, step_due)} 个工作日" in desk
    item = re.search(r'data-item="(\d+)" data-bpmn="Task_DeptReview_Fire"', desk).group(1)
    page = reviewer.get(f"/desk/items/{item}").get_data(as_text=True)
    assert "已用 0 个工作日" in page
    left = CALENDAR.workdays_between(today, case.promised_date)
    assert f"剩余 {left} 个工作日" in page.split('id="case-time"')[1][:40]


@pytest.mark.moments
def test_a_limit_in_hours_counts_working_days_only(app, api, county, session):
    from ..conftest import api_for
    from ..diagrams import laned, user

    with app.app_context():
        # Friday 2026-11-20 20:00 Beijing + 8 working hours: Monday 04:00 (the weekend does not count)
        clock = center_clock()
        friday_evening = datetime(2026, 11, 20, 12, 0)
        assert clock.step_due(friday_evening, hours=8) == datetime(2026, 11, 22, 20, 0)
        assert clock.working_hours_between(friday_evening, datetime(2026, 11, 22, 20, 0)) == 8
        # 30 September 20:00 + 8 hours: the National Day week is skipped (due 8 October 04:00)
        assert clock.step_due(datetime(2026, 9, 30, 12, 0), hours=8) == datetime(2026, 10, 7, 20, 0)

    hurry = laned(
        "hurry",
        ("村 窗口受理员", user("accept", "受理登记")),
        ("乡镇 审核人", user("check", "乡镇核实", {"limit_hours": "4"})),
    )
    assert api.deploy(("hurry.bpmn", hurry)).status_code == 201
    instance_id = api.start("hurry", {"place": county.code("v11")}).get_json()["id"]
    accept = api.open_items(instance_id)["accept"]
    assert api_for(app, "v11_window_clerk").complete(accept, {"ok": True}).status_code == 200
    check = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == instance_id, wm.WorkItem.bpmn_id == "check"
        )
    ).one()
    with app.app_context():
        assert check.due_at == center_clock().step_due(check.created_at, hours=4)


def run_schedulers(database_url: str, tmp_path, now: str, job: str) -> list[int]:
    """Two scheduler processes doing ``job`` three times each, let go together."""
    argv = [sys.executable, "-c", SCHEDULER, database_url]
    processes = [
        subprocess.Popen(
            [*argv, str(tmp_path / f"i{n}"), now, job],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for process in processes:  # both apps built before either starts
        assert process.stdout.readline().strip() == "ready", process.stderr.read()[-3000:]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    totals = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]
        totals.append(int(out.strip().splitlines()[-1]))
    return totals


def test_two_scheduler_processes_fire_a_boundary_timer_once(
    app, shipped, session, database_url, tmp_path
):
    """The lead summary's 2-day boundary timer escalates to 超时督办 exactly once."""
    from workflows.timeutil import utcnow

    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    for username, step in (
        ("xf_reviewer", "Task_DeptReview_Fire"),
        ("sthj_reviewer", "Task_DeptReview_Env"),
        ("wjw_reviewer", "Task_DeptReview_Health"),
    ):
        do(app, session, username, number, step, {"decision": "approve", "opinion": "同意"})
    instance_id = case_of(session, number).instance_id
    later = (utcnow() + timedelta(days=3)).isoformat()
    assert sum(run_schedulers(database_url, tmp_path, later, "timers")) == 1
    fired = session.scalars(
        select(wm.InstanceEvent).where(
            wm.InstanceEvent.instance_id == instance_id, wm.InstanceEvent.kind == "timer_fired"
        )
    ).all()
    assert len(fired) == 1
    urge = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == instance_id, wm.WorkItem.bpmn_id == "Task_Urge"
        )
    ).all()
    assert len(urge) == 1 and urge[0].status == "open"
