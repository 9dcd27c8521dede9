"""环节瓶颈: per step of an item's diagram, working hours (median, p90), the wait before
claim, the share done after the due time and the 退回 count, against a hand count; the
diagram served to the viewer; the reader's jurisdiction."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from app.models.cases import Case
from app.models.items import Item
from workflows import models as wm

from ..conftest import DEMO_PASSWORD, signed_in

MONTH = "period=month&day=2026-03-15"


def at(day: str, hour: float) -> datetime:
    """Beijing ``hour`` on 2026-``day`` as the naive UTC stored."""
    return datetime.fromisoformat(f"2026-{day}T00:00") + timedelta(hours=hour - 8)


def step(session, instance_id, bpmn_id, name, created, claimed, done, due=None, status="completed",
         data=None):  # fmt: skip
    session.add(wm.WorkItem(
        instance_id=instance_id, task_id=f"{instance_id}-{bpmn_id}-{created}", bpmn_id=bpmn_id,
        name=name, status=status, completed_by="scj_spg_handler", created_at=created,
        claimed_at=claimed, completed_at=done, due_at=due, data=data,
    ))  # fmt: skip


def food_steps(session, food: Item) -> list[Case]:
    """承办 of the month's four decided food workshops (2, 6, 30 and 54.5 working hours,
    the last after its due time) and one 审核 sent back."""
    definition = session.scalars(
        select(wm.ProcessDefinition).where(wm.ProcessDefinition.process_id == "food_workshop")
    ).first()
    decided = session.scalars(
        select(Case).where(Case.item_id == food.id, Case.decided_at.is_not(None)).order_by(Case.id)
    ).all()
    assert len(decided) == 4
    for case, start in zip(decided, ("03-03", "03-04", "03-05", "03-09"), strict=True):
        made = wm.ProcessInstance(definition_id=definition.id, process_id="food_workshop",
                                  status="completed", data={})  # fmt: skip
        session.add(made)
        session.flush()
        case.instance_id = made.id
        created = at(start, 8.5)
        step(session, made.id, "Task_Handle", "承办", created, created + timedelta(hours=1),
             None, due=at(start, 17.5) + timedelta(days=1))  # fmt: skip
    session.flush()
    # hours on working days (weekends and holidays out): 2, 6, 30 and 54.5
    ends = [at("03-03", 10.5), at("03-04", 14.5), at("03-06", 14.5), at("03-11", 15.0)]
    items = session.scalars(select(wm.WorkItem).where(wm.WorkItem.bpmn_id == "Task_Handle")).all()
    for item, end in zip(sorted(items, key=lambda i: i.created_at), ends, strict=True):
        item.completed_at = end
    one = sorted(items, key=lambda i: i.created_at)[0]
    step(session, one.instance_id, "Task_Review", "审核", at("03-03", 10.5), None, at("03-03", 11.5),
         status="returned")  # fmt: skip
    session.commit()
    return decided


def test_each_step_of_the_food_workshop_against_a_hand_count(app, march, session):
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    decided = food_steps(session, food)

    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    page = inspector.get(f"/statistics/bottlenecks?{MONTH}&item={food.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    marks = json.loads(re.search(r'class="diagram-marks">(.*?)</script>', html, re.S).group(1))
    handle = marks["figures"]["Task_Handle"]
    # sorted 2, 6, 30, 54.5: the 2nd is the median, the 4th the 90th percentile
    assert handle["count"] == 4
    assert (handle["median"], handle["p90"], handle["wait_median"]) == (6.0, 54.5, 1.0)
    assert handle["overdue_share"] == 0.25  # only the last finished after its due time
    assert handle["slowest"][0]["number"] == decided[3].number
    review = marks["figures"]["Task_Review"]
    assert (review["count"], review["returns"]) == (1, 1)
    assert marks["bands"] == {"Task_Handle": "heat-4", "Task_Review": "heat-0"}
    assert 'id="heat-legend"' in html and "点击环节查看详情" in html
    diagram = inspector.get(f"/statistics/items/{food.id}/diagram.bpmn")
    assert diagram.status_code == 200 and b"Task_Handle" in diagram.data
    assert diagram.headers["Content-Security-Policy"].startswith("sandbox")

    other = signed_in(app, "zjj_chief", DEMO_PASSWORD)  # leads no food workshops
    theirs = other.get(f"/statistics/bottlenecks?{MONTH}&item={food.id}").get_data(as_text=True)
    assert "本期没有办完的环节" in theirs
    assert (
        signed_in(app, "center_clerk", DEMO_PASSWORD).get("/statistics/bottlenecks").status_code
        == 403
    )
    assert inspector.get("/statistics/items/999999/diagram.bpmn").status_code == 404
