"""The guard seam: the platform may refuse user work on an instance (e.g. a suspended case).

A refusing guard stops every kind of user work before anything changes; starts,
terminations, retries and timers never ask it; without a guard nothing differs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from workflows import models as m
from workflows.errors import RuntimeErrorBase
from workflows.runtime import Runtime
from workflows.seams import GUARDED_ACTIONS
from workflows.timeutil import utcnow

from ..conftest import SHIPPED, bundle
from ..diagrams import chain, script, timer_catch, user
from .test_joint_review import REVIEWS, approve, start_and_accept
from .test_operations import ask, kinds, refused, run, snapshot, start_cosign

FIRE, ENV, HEALTH = REVIEWS


class Suspended(RuntimeErrorBase):
    code = "suspended"
    http_status = 409


class Allow:
    """Allows everything, remembering what it was asked."""

    def __init__(self):
        self.asked: list[tuple[int, str]] = []

    def may_change(self, session, instance, action: str) -> None:
        self.asked.append((instance.id, action))


class Refuse(Allow):
    """Refuses all user work, as for a suspended case."""

    def may_change(self, session, instance, action: str) -> None:
        super().may_change(session, instance, action)
        raise Suspended("办件已挂起，不能办理。")


@pytest.fixture
def joint(api):
    assert api.deploy(*bundle(SHIPPED / "joint_review")).status_code == 201
    return api


def test_a_refusing_guard_stops_all_work_on_a_case_and_nothing_changes(joint, rt, session):
    instance_id = start_and_accept(joint)
    accept = session.scalars(select(m.WorkItem).where(m.WorkItem.bpmn_id == "Task_Accept")).one()
    items = joint.open_items(instance_id)
    fire, env, health = items[FIRE], items[ENV], items[HEALTH]
    run(rt, "claim", env["id"], "admin")
    run(rt, "delegate", health["id"], "admin", "expert", "请专家把关")
    before = snapshot(joint, instance_id), kinds(session, instance_id)

    guard = Refuse()
    guarded = Runtime(rt.session, guard=guard)
    attempts = [
        ("complete", fire["id"], approve(), fire["version"], "admin"),
        ("claim", fire["id"], "admin"),
        ("release", env["id"], "admin"),
        ("return_to", fire["id"], "Task_Accept", "admin", "材料不全"),
        ("take_back", accept.id, "admin"),
        ("transfer", fire["id"], "admin", "clerk2", "外出培训"),
        ("delegate", fire["id"], "admin", "expert", "请专家把关"),
        ("resolve_delegation", health["id"], "expert", "符合要求"),
    ]
    for operation, *args in attempts:
        refused(guarded, Suspended, operation, *args)

    assert (snapshot(joint, instance_id), kinds(session, instance_id)) == before
    assert guard.asked == [
        (instance_id, action)
        for action in (
            "complete",
            "claim",
            "release",
            "return",
            "take_back",
            "transfer",
            "delegate",
            "resolve_delegation",
        )
    ]
    run(rt, "complete", fire["id"], approve(), fire["version"], "admin")  # no guard, no refusal
    assert FIRE not in joint.open_items(instance_id)


def test_a_refusing_guard_keeps_the_signers_of_a_cosign(api, rt, session):
    instance_id = start_cosign(api)
    before = ask(rt, "signers", instance_id, "Task_Cosign"), kinds(session, instance_id)
    guard = Refuse()
    guarded = Runtime(rt.session, guard=guard)

    refused(
        guarded, Suspended, "add_signer", instance_id, "Task_Cosign", "交通运输局", "admin", "x"
    )
    refused(guarded, Suspended, "remove_signer", instance_id, "Task_Cosign", "林业局", "admin", "x")

    after = ask(rt, "signers", instance_id, "Task_Cosign"), kinds(session, instance_id)
    assert after == before
    assert guard.asked == [(instance_id, "add_signer"), (instance_id, "remove_signer")]


def test_the_guard_is_asked_about_user_work_only(api, rt):
    waits = chain("wait", user("enter"), timer_catch("pause", "PT5M"), user("check"))
    fails = chain("broken", user("enter"), script("compute", "ratio = 1 / zero"))
    assert api.deploy(("wait.bpmn", waits)).status_code == 201
    assert api.deploy(("broken.bpmn", fails)).status_code == 201
    guard = Allow()
    guarded = Runtime(rt.session, guard=guard)

    waiting = run(guarded, "start", "wait", actor="admin").id
    enter = ask(guarded, "open_work_items", waiting)[0].id
    run(guarded, "claim", enter, "admin")
    run(guarded, "release", enter, "admin")
    run(guarded, "complete", enter, {}, ask(guarded, "work_item", enter).version, "admin")
    assert [f.instance_id for f in guarded.fire_due_timers(utcnow() + timedelta(days=1))] == [
        waiting
    ]
    run(guarded, "terminate", waiting, "申请人撤件", "admin")

    failing = run(guarded, "start", "broken", actor="admin").id
    enter = ask(guarded, "open_work_items", failing)[0].id
    assert run(guarded, "complete", enter, {"zero": 0}, 1, "admin").status == "error"
    run(guarded, "retry", failing, "admin")

    assert guard.asked == [
        (waiting, "claim"),
        (waiting, "release"),
        (waiting, "complete"),
        (failing, "complete"),
    ]
    assert {action for _id, action in guard.asked} <= set(GUARDED_ACTIONS)
