"""红黑榜 from the hand-counted month: departments by their cases on time, windows and
people by their steps done by the due time, with ratings, points and complaints; the
rules are printed and configurable; the bulletin prints the two boards."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.cases import Case
from app.models.feedback import CaseRating
from app.models.items import Item
from app.models.org import Department
from workflows import models as wm

from ..conftest import DEMO_PASSWORD, signed_in
from .conftest import d, moment

MONTH = "period=month&day=2026-03-15"


def instance(session, case: Case | None, steps, data=None) -> wm.ProcessInstance:
    """A finished instance for ``case`` with (username, due day, done day) steps."""
    definition = session.scalars(select(wm.ProcessDefinition).limit(1)).one()
    made = wm.ProcessInstance(
        definition_id=definition.id, process_id=definition.process_id, status="completed",
        data=data or {},
    )  # fmt: skip
    session.add(made)
    session.flush()
    for number, (username, due, done) in enumerate(steps):
        session.add(wm.WorkItem(
            instance_id=made.id, task_id=f"t{made.id}-{number}", bpmn_id="Task_Step", name="办理",
            status="done", completed_by=username, due_at=moment(d(due), 23),
            completed_at=moment(d(done), 10), created_at=moment(d(due)),
        ))  # fmt: skip
    if case is not None:
        case.instance_id = made.id
    return made


def by_number(session, number: str) -> Case:
    return session.scalars(select(Case).where(Case.number == number)).one()


def window_department(session) -> Department:
    return session.scalars(
        select(Department).where(
            Department.name == "综合受理窗口", Department.parent.has(name="青山县政务服务中心")
        )
    ).one()


def rate(session, case: Case, level: str, day: str, handlers: list[str]) -> None:
    session.add(CaseRating(
        case_id=case.id, level=level, first_level=level, tags=[], channel="code",
        rated_at=moment(d(day)), department_id=case.lead_department_id,
        window_id=window_department(session).id, handlers=handlers,
    ))  # fmt: skip


def test_the_month_ranks_departments_windows_and_people(app, march, session):
    early = by_number(session, march["early"])
    late = session.scalars(
        select(Case).join(Item).where(Item.code == "ZJJ-HWGG-SZSP", Case.decided_at.is_not(None))
    ).one()
    instance(
        session, early, [("center_clerk", "03-02", "03-02"), ("scj_spg_handler", "03-05", "03-04")]
    )
    instance(session, late, [("zjj_handler", "03-10", "03-12")])
    rate(session, early, "5", "03-12", ["center_clerk", "scj_spg_handler"])
    rate(session, late, "2", "03-19", ["zjj_handler"])
    complaint = session.scalars(select(Case).join(Item).where(Item.code == "ZX-TSCL")).one()
    instance(session, complaint, [], {"handling_department": "县住房和城乡建设局"})
    session.commit()

    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    html = inspector.get(f"/statistics/rankings?{MONTH}").get_data(as_text=True)
    assert "得分 = 100 ×（按时率 × 0.6 + 满意率 × 0.4）" in html

    def line(table: str, name: str) -> dict:
        body = html.split(f'id="standings-{table}"', 1)[1].split("</table>", 1)[0]
        cells = body.split(f'data-row="{name}"', 1)[1].split("</tr>", 1)[0]
        return {k: re.sub(r"<[^>]+>|\s", "", v) for k, v in
                re.findall(r'data-key="(\w+)">(.*?)</td>', cells)}  # fmt: skip

    scj = line("department", "县市场监督管理局")
    assert (scj["on_time"], scj["satisfaction"], scj["score"], scj["board"]) == (
        "100.00%（6/6）", "100.00%（1/1）", "100.00", "红榜",
    )  # fmt: skip
    zjj = line("department", "县住房和城乡建设局")
    assert (zjj["on_time"], zjj["points"], zjj["complaints"], zjj["score"], zjj["board"]) == (
        "0.00%（0/1）", "1.50", "1", "-3.50", "黑榜",
    )  # fmt: skip
    window = line("window", "青山县政务服务中心 综合受理窗口")
    # both cases were received at this window: 0.6 × 100 + 0.4 × 50 = 80, below 85
    assert (window["on_time"], window["satisfaction"], window["score"], window["board"]) == (
        "100.00%（1/1）", "50.00%（1/2）", "80.00", "黑榜",
    )  # fmt: skip
    body = html.split('id="standings-window"', 1)[1].split("</table>", 1)[0]
    assert body.count("data-row=") == 1  # windows with nothing recorded are not listed
    people = html.split('id="standings-person"', 1)[1].split("</table>", 1)[0]
    assert "zjj_handler" not in people and people.count("红榜") == 2 and people.count("黑榜") == 1

    bulletin = inspector.get(f"/statistics/rankings/bulletin?{MONTH}").get_data(as_text=True)
    black = bulletin.split('data-board="black-department"', 1)[1].split("</table>", 1)[0]
    assert "县住房和城乡建设局" in black and "-3.50" in black
    assert (
        "县市场监督管理局"
        in bulletin.split('data-board="red-department"', 1)[1].split("</table>", 1)[0]
    )


def test_the_rules_are_configurable_and_bad_rules_fall_back(app, march, session):
    app.config["RANKING_RULES"] = {"black_below": 50, "point_penalty": "lots", "nope": 1}
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    html = inspector.get(f"/statistics/rankings?{MONTH}").get_data(as_text=True)
    assert "黑榜：得分低于 50 分" in html and "每扣 1 分减 1 分" in html


def test_rankings_follow_the_readers_jurisdiction(app, march, session):
    zjj = signed_in(app, "zjj_chief", DEMO_PASSWORD).get(f"/statistics/rankings?{MONTH}")
    text = zjj.get_data(as_text=True)
    assert zjj.status_code == 200 and "县市场监督管理局" not in text
    assert (
        signed_in(app, "center_clerk", DEMO_PASSWORD).get("/statistics/rankings").status_code == 403
    )
    assert app.test_client().get("/statistics/rankings/bulletin").status_code == 302
