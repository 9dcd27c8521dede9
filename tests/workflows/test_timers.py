"""Timers written the standard way or as SpiffWorkflow expressions, fired by the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.scheduler import fire_timers_job
from workflows.timeutil import utcnow

from ..conftest import DIAGRAMS
from ..diagrams import HEADER, chain, timer_catch, user


@pytest.mark.parametrize(
    ("expression", "due_in"),
    [
        ("PT5M", timedelta(minutes=5)),
        ("P2D", timedelta(days=2)),
        ("'PT5M'", timedelta(minutes=5)),
        ('"PT1H"', timedelta(hours=1)),
    ],
)
def test_duration_timers_wait_then_fire(api, rt, expression, due_in):
    api.deploy(
        ("t.bpmn", chain("wait", user("before"), timer_catch("pause", expression), user("after")))
    )
    instance_id = api.start("wait").get_json()["id"]
    started = utcnow()
    api.complete(api.open_items(instance_id)["before"])
    body = api.instance(instance_id)
    assert body["work_items"] == []
    due = body["next_timer_at"]
    assert due is not None
    from datetime import datetime

    due_at = datetime.fromisoformat(due.rstrip("Z"))
    assert (
        started + due_in - timedelta(seconds=5)
        <= due_at
        <= utcnow() + due_in + timedelta(seconds=5)
    )

    assert rt.fire_due_timers(now=due_at - timedelta(seconds=1)) == []
    fired = rt.fire_due_timers(now=due_at + timedelta(seconds=1))
    assert [(f.instance_id, f.timers, f.status) for f in fired] == [
        (instance_id, ["pause"], "running")
    ]
    assert list(api.open_items(instance_id)) == ["after"]
    assert api.instance(instance_id)["next_timer_at"] is None
    assert rt.fire_due_timers(now=due_at + timedelta(days=10)) == []  # fires once


def test_date_timer_written_as_iso_text(api, rt):
    date_timer = (
        '<bpmn:intermediateCatchEvent id="until" name="until"><bpmn:timerEventDefinition>'
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">2030-01-01T08:00:00Z</bpmn:timeDate>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    api.deploy(("d.bpmn", chain("until_date", date_timer, user("after"))))
    instance_id = api.start("until_date").get_json()["id"]
    assert api.instance(instance_id)["next_timer_at"] == "2030-01-01T08:00:00Z"
    from datetime import datetime

    assert rt.fire_due_timers(now=datetime(2029, 12, 31, 23, 0)) == []
    assert len(rt.fire_due_timers(now=datetime(2030, 1, 1, 8, 0, 1))) == 1
    assert list(api.open_items(instance_id)) == ["after"]


def test_camunda_modeler_diagram_runs_with_juel_conditions_and_standard_timers(api, rt):
    from datetime import datetime

    assert api.deploy(DIAGRAMS / "camunda_modeler.bpmn").status_code == 201
    instance_id = api.start("camunda_permit").get_json()["id"]
    accept = api.open_items(instance_id)["Activity_0k7x2mf"]
    data = {
        "applicantName": "王五",
        "amount": 1500,
        "applyDate": "2026-11-20",
        "harvestType": "main",
    }
    assert api.complete(accept, data).status_code == 200
    review = api.open_items(instance_id)["Activity_1v3n8qd"]
    assert review["properties"]["level"] == "township"
    assert review["due_at"] is not None

    due = datetime.fromisoformat(review["due_at"].rstrip("Z"))
    assert [f.timers for f in rt.fire_due_timers(now=due + timedelta(seconds=1))] == [
        ["Event_0c4lq2z"]
    ]
    urge = api.open_items(instance_id)["Activity_0h9w1ts"]
    done = api.complete(urge, {"approved": True, "opinion": "同意", "overdueReason": "外业核查"})
    assert done.status_code == 200, done.get_json()
    county = api.open_items(instance_id)["Activity_0p5c7vb"]  # ${amount > 1000}
    api.complete(county, {"countyOpinion": "同意采伐"})
    assert api.instance(instance_id)["next_timer_at"] == "2030-01-01T08:00:00Z"
    rt.fire_due_timers(now=datetime(2030, 1, 1, 8, 1))
    issue = api.open_items(instance_id)["Activity_1d8f0gy"]
    body = api.complete(issue, {"permitNo": "LC-2030-001", "issueDate": "2030-01-02"}).get_json()
    assert body["status"] == "completed"


@pytest.mark.moments
def test_the_scheduler_job_fires_due_timers(api, app):
    api.deploy(("t.bpmn", chain("quick", timer_catch("tick", "PT10M"), user("after"))))
    instance_id = api.start("quick").get_json()["id"]
    assert api.instance(instance_id)["next_timer_at"] is not None
    assert fire_timers_job(app) == 0
    later = utcnow() + timedelta(minutes=11)
    assert fire_timers_job(app, now=later) == 1
    assert list(api.open_items(instance_id)) == ["after"]
    assert fire_timers_job(app, now=later) == 0


def test_two_schedulers_at_once_fire_each_timer_once(api, app):
    import threading

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from workflows import models as m
    from workflows.runtime import Runtime

    from ..conftest import engine_of

    api.deploy(("t.bpmn", chain("many", timer_catch("tick", "PT10M"), user("after"))))
    ids = [api.start("many").get_json()["id"] for _ in range(20)]
    later = utcnow() + timedelta(minutes=11)
    engine = engine_of(app)
    results: list[list] = []
    barrier = threading.Barrier(2)

    def scheduler():
        with Session(engine) as session:
            barrier.wait(timeout=30)
            results.append(Runtime(session).fire_due_timers(now=later, limit=100))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    fired = sorted(f.instance_id for batch in results for f in batch)
    assert fired == sorted(ids)
    with Session(engine) as session:
        events = session.scalar(
            select(func.count())
            .select_from(m.InstanceEvent)
            .where(m.InstanceEvent.kind == "timer_fired")
        )
    assert events == 20
    assert all(list(api.open_items(i)) == ["after"] for i in ids)


NUDGE_HOURLY = (
    HEADER.format(pid="nudge_hourly")
    + """<bpmn:process id="nudge_hourly" isExecutable="true">
<bpmn:startEvent id="start"/>
<bpmn:userTask id="work" name="办理"/>
<bpmn:boundaryEvent id="hourly" name="hourly" attachedToRef="work" cancelActivity="false">
<bpmn:timerEventDefinition>
<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R2/PT1H</bpmn:timeCycle>
</bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:userTask id="nudge" name="催办"/>
<bpmn:endEvent id="end"/>
<bpmn:endEvent id="nudged"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="hourly" targetRef="nudge"/>
<bpmn:sequenceFlow id="f4" sourceRef="nudge" targetRef="nudged"/>
</bpmn:process></bpmn:definitions>
"""
).encode()


@pytest.mark.moments
def test_a_cycle_timer_nudges_twice_then_stops(api, rt):
    """SpiffWorkflow reads the real clock for cycles: under time travel it moves too."""
    assert api.deploy(("nudge.bpmn", NUDGE_HOURLY)).status_code == 201
    instance_id = api.start("nudge_hourly").get_json()["id"]
    started = utcnow()
    first = datetime.fromisoformat(api.instance(instance_id)["next_timer_at"].rstrip("Z"))
    assert timedelta(minutes=59) < first - started <= timedelta(hours=1)
    assert rt.fire_due_timers(now=utcnow()) == []
    for _ in range(2):
        fired = rt.fire_due_timers(now=utcnow() + timedelta(minutes=61))
        assert [(f.instance_id, f.timers) for f in fired] == [(instance_id, ["hourly"])]
    assert rt.fire_due_timers(now=utcnow() + timedelta(days=1)) == []
    assert api.instance(instance_id)["next_timer_at"] is None
    listed = api.get(f"/api/v1/work-items?instance={instance_id}").get_json()["work_items"]
    assert sorted(i["bpmn_id"] for i in listed) == ["nudge", "nudge", "work"]


def test_timer_expressions_giving_timedelta_or_datetime_wait_like_iso_text(api, rt):
    date_timer = (
        '<bpmn:intermediateCatchEvent id="until" name="until"><bpmn:timerEventDefinition>'
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
        "datetime.fromisoformat('2090-01-01T08:00:00+00:00')</bpmn:timeDate>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    bundle = chain(
        "typed", timer_catch("pause", "timedelta(minutes=minutes)"), date_timer, user("after")
    )
    assert api.deploy(("t.bpmn", bundle)).status_code == 201
    started = utcnow()
    instance_id = api.start("typed", {"minutes": 5}).get_json()["id"]
    due = datetime.fromisoformat(api.instance(instance_id)["next_timer_at"].rstrip("Z"))
    assert started + timedelta(minutes=5) - timedelta(seconds=5) <= due
    assert due <= utcnow() + timedelta(minutes=5, seconds=5)
    rt.fire_due_timers(now=due + timedelta(seconds=1))
    assert api.instance(instance_id)["next_timer_at"] == "2090-01-01T08:00:00Z"
    rt.fire_due_timers(now=datetime(2090, 1, 1, 8, 0, 1))
    assert list(api.open_items(instance_id)) == ["after"]
