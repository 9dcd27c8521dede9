"""Cases that wait for a message or a signal from outside the diagram, and get it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import models as m
from workflows.errors import RuntimeErrorBase
from workflows.messages import AlreadyReceived, MessageIdReused, NothingWaits
from workflows.runtime import Runtime

from ..conftest import DIAGRAMS, engine_of


def _start(api, process_id: str, case_number: str) -> int:
    response = api.start(process_id, {"case_number": case_number})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _finish_review(api, instance_id: int, step: str = "review") -> None:
    assert api.complete(api.open_items(instance_id)[step]).status_code == 200


def _waits(session, instance_id: int) -> set[tuple[str, str, str]]:
    rows = session.scalars(select(m.InstanceWait).where(m.InstanceWait.instance_id == instance_id))
    return {(w.kind, w.name, w.bpmn_id) for w in rows}


def _deliver(rt, name, case_number=None, data=None, **options):
    correlation = {"case_number": case_number} if case_number else {}
    delivery = rt.deliver_message(name, correlation, data or {}, **options)
    rt.session.commit()
    return delivery


def test_boundary_messages_interrupt_or_add_work_and_a_signal_stops_the_step(api, rt, session):
    assert api.deploy(DIAGRAMS / "message_waits.bpmn").status_code == 201
    first, second = _start(api, "fee_wait", "A1"), _start(api, "fee_wait", "B2")
    assert _waits(session, first) == {
        ("message", "撤回申请", "withdrawn"),
        ("message", "催办", "reminded"),
        ("signal", "政策调整", "policy_changed"),
    }

    assert _deliver(rt, "催办", "A1", {"urged_by": "12345"}).received == [first]
    assert set(api.open_items(first)) == {"review", "note_reminder"}  # non-interrupting
    assert api.open_items(second).keys() == {"review"}

    assert _deliver(rt, "撤回申请", "A1").received == [first]
    assert set(api.open_items(first)) == {"note_reminder"}  # the review was interrupted
    assert _waits(session, first) == set()
    history = [(e["kind"], e["message"]) for e in api.instance(first)["history"]]
    assert ("message_received", "催办") in history and ("message_received", "撤回申请") in history

    signal = rt.broadcast_signal("政策调整", process_id="fee_wait")
    rt.session.commit()
    assert (signal.received, signal.skipped) == ([second], [])
    body = api.instance(second)
    assert body["status"] == "completed"
    assert [e["name"] for e in body["history"] if e["kind"] == "task_completed"][-1] == (
        "因政策调整终止"
    )


def test_a_receive_task_takes_only_its_own_case_number_and_each_id_once(api, rt, session):
    api.deploy(DIAGRAMS / "message_waits.bpmn")
    first, second = _start(api, "fee_wait", "A1"), _start(api, "fee_wait", "B2")
    for instance_id in (first, second):
        _finish_review(api, instance_id)
        assert _waits(session, instance_id) == {("message", "缴费完成", "wait_payment")}

    delivery = _deliver(rt, "缴费完成", "B2", {"paid_amount": 120}, message_id="pay-1")
    assert delivery.received == [second]
    assert set(api.open_items(second)) == {"issue"}
    assert api.instance(second)["data"]["paid_amount"] == 120
    assert set(api.open_items(first)) == set()  # still waiting for its own payment
    assert _waits(session, first) == {("message", "缴费完成", "wait_payment")}

    again = _deliver(rt, "缴费完成", "B2", {"paid_amount": 120}, message_id="pay-1")
    assert (again.received, again.repeated) == ([second], True)
    with pytest.raises(MessageIdReused):
        _deliver(rt, "缴费完成", "B2", {"paid_amount": 999}, message_id="pay-1")
    rt.session.rollback()
    with pytest.raises(NothingWaits):
        _deliver(rt, "缴费完成", "B2", {"paid_amount": 120}, message_id="pay-2")
    rt.session.rollback()
    with pytest.raises(NothingWaits):
        _deliver(rt, "缴费完成", None)  # without its case number nothing matches
    rt.session.rollback()


def test_event_based_gateway_message_or_timer_whichever_comes_first(api, rt, session):
    api.deploy(DIAGRAMS / "message_race.bpmn")
    paid, late = _start(api, "fee_race", "P1"), _start(api, "fee_race", "L1")
    for instance_id in (paid, late):
        _finish_review(api, instance_id, "accept")
    due = session.get(m.ProcessInstance, late).next_timer_at
    assert due is not None
    assert _waits(session, late) == {("message", "缴费完成", "Gateway_wait")}

    assert _deliver(rt, "缴费完成", "P1").received == [paid]
    assert set(api.open_items(paid)) == {"issue"}
    assert api.instance(paid)["next_timer_at"] is None

    fired = rt.fire_due_timers(now=due + timedelta(seconds=1))
    assert [f.instance_id for f in fired] == [late]
    assert set(api.open_items(late)) == {"remind"}
    assert _waits(session, late) == set()
    with pytest.raises(NothingWaits):
        _deliver(rt, "缴费完成", "L1")
    rt.session.rollback()
    assert set(api.open_items(paid)) == {"issue"}  # the timer of the paid case never fires


def test_messages_a_case_throws_reach_the_waiting_case_or_start_a_process(api, rt, session):
    for name in ("message_waits.bpmn", "message_start.bpmn", "message_send.bpmn"):
        assert api.deploy(DIAGRAMS / name).status_code == 201
    waiting = _start(api, "fee_wait", "W1")
    _finish_review(api, waiting)
    cashier = _start(api, "cashier", "C1")
    # completing 收费 throws 缴费完成 for W1 and 市级答复: both delivered after the commit
    collect = api.open_items(cashier)["collect"]
    assert api.complete(collect, {"paid_case": "W1", "amount": 80}).status_code == 200

    assert set(api.open_items(waiting)) == {"issue"}
    assert api.instance(waiting)["data"]["paid_amount"] == 80
    outbox = session.scalars(select(m.MessageOutbox).order_by(m.MessageOutbox.id)).all()
    assert [(o.name, o.delivered_at is not None) for o in outbox] == [
        ("缴费完成", True),
        ("市级答复", True),
    ]
    started = outbox[1].result["started"]
    assert len(started) == 1
    reply = session.get(m.ProcessInstance, started[0])
    assert (reply.process_id, reply.data["asked_for"]) == ("city_reply", "W1")
    assert set(api.open_items(reply.id)) == {"read_reply"}
    assert rt.deliver_outbox() == []


def test_two_deliveries_racing_for_one_wait_exactly_one_wins(app, api):
    api.deploy(DIAGRAMS / "message_waits.bpmn")
    instance_id = _start(api, "fee_wait", "R1")
    _finish_review(api, instance_id)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def deliver(n: int) -> None:
        with Session(engine_of(app)) as s:
            runtime = Runtime(s)
            barrier.wait(timeout=30)
            try:
                runtime.deliver_message(
                    "缴费完成", {"case_number": "R1"}, {"payer": n}, message_id=f"race-{n}"
                )
                s.commit()
                outcomes[n] = "received"
            except (AlreadyReceived, NothingWaits) as exc:
                s.rollback()
                outcomes[n] = exc.code

    threads = [threading.Thread(target=deliver, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) in (
        ["already_received", "received"],
        ["nothing_waits", "received"],
    ), outcomes
    assert set(api.open_items(instance_id)) == {"issue"}
    received = [e for e in api.instance(instance_id)["history"] if e["kind"] == "message_received"]
    assert len(received) == 1


class Suspended(RuntimeErrorBase):
    code = "suspended"
    http_status = 409


class RefuseAll:
    """The platform's guard for suspended (挂起) cases, as the receivers see it."""

    def may_change(self, session, instance, action: str) -> None:
        if action in ("receive_message", "receive_signal"):
            raise Suspended("办件已被挂起，暂停办理。")


def test_a_suspended_case_refuses_messages_and_is_skipped_by_signals(api, rt, session):
    api.deploy(DIAGRAMS / "message_waits.bpmn")
    instance_id = _start(api, "fee_wait", "H1")
    guarded = Runtime(rt.session, guard=RefuseAll())
    with pytest.raises(Suspended):
        guarded.deliver_message("催办", {"case_number": "H1"}, {})
    rt.session.rollback()
    signal = guarded.broadcast_signal("政策调整")
    rt.session.commit()
    assert (signal.received, [s["instance"] for s in signal.skipped]) == ([], [instance_id])
    assert set(api.open_items(instance_id)) == {"review"}
    assert len(_waits(session, instance_id)) == 3


def test_a_message_thrown_to_a_suspended_case_waits_in_the_outbox(api, rt, session):
    for name in ("message_waits.bpmn", "message_send.bpmn"):
        api.deploy(DIAGRAMS / name)
    waiting = _start(api, "fee_wait", "W2")
    _finish_review(api, waiting)
    cashier = _start(api, "cashier", "C2")
    guarded = Runtime(rt.session, guard=RefuseAll())
    collect = rt.session.scalars(
        select(m.WorkItem).where(m.WorkItem.instance_id == cashier, m.WorkItem.bpmn_id == "collect")
    ).one()
    guarded.complete(collect.id, {"paid_case": "W2", "amount": 80}, collect.version, "admin")
    rt.session.commit()

    first = guarded.deliver_outbox()
    assert [d.get("error") for d in first] == ["suspended", "nothing_waits"]
    pending = session.scalars(select(m.MessageOutbox).where(m.MessageOutbox.delivered_at.is_(None)))
    assert [o.name for o in pending] == ["缴费完成"]
    assert set(api.open_items(waiting)) == set()

    assert [d["received"] for d in rt.deliver_outbox()] == [[waiting]]  # resumed
    assert set(api.open_items(waiting)) == {"issue"}
