"""Delivering messages and signals into cases, for the API and for Python callers.

The portal, the payment interface and federation call ``deliver_message`` and
``broadcast_signal`` with a session; the runtime runs with the platform's
assigner, observers and guard (a suspended case refuses a message). The caller
commits, then calls ``deliver_pending`` for what the instances threw meanwhile.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.desk.operations import SET_BY_PLATFORM
from app.engine import platform_runtime
from app.extensions import db
from workflows import message_checks
from workflows import models as m
from workflows.change import OUTBOX_PENDING
from workflows.errors import InvalidTaskData
from workflows.messages import (
    Delivery,
    correlation_text,
    describe_wait,
    pending_waits,
    wait_correlation,
)

log = logging.getLogger(__name__)


def check_message_data(data: dict) -> dict:
    """A message's data may not set the case's facts or its result."""
    refused = {k: "办件信息由平台填写，消息不能改写。" for k in data if k in SET_BY_PLATFORM}
    if refused:
        raise InvalidTaskData("data 含有只能由平台填写的办件信息。", refused)
    return data


def deliver_message(
    session,
    name: str,
    correlation: dict | None = None,
    data: dict | None = None,
    *,
    message_id: str | None = None,
    actor: str | None = None,
    may_deliver=None,
) -> Delivery:
    """Deliver a message to the case waiting for it (by 办件编号 ``case_number`` by default)."""
    return platform_runtime(session).deliver_message(
        name,
        correlation or {},
        check_message_data(data or {}),
        message_id=message_id,
        actor=actor,
        may_deliver=may_deliver,
    )


def broadcast_signal(
    session,
    name: str,
    data: dict | None = None,
    *,
    process_id: str | None = None,
    signal_id: str | None = None,
    actor: str | None = None,
    may_deliver=None,
) -> Delivery:
    """Deliver a signal to every case waiting for it (only ``process_id``'s if given)."""
    return platform_runtime(session).broadcast_signal(
        name,
        check_message_data(data or {}),
        process_id=process_id,
        signal_id=signal_id,
        actor=actor,
        may_deliver=may_deliver,
    )


def deliver_pending(session, limit: int = 100) -> list[dict]:
    """Deliver what instances threw (the outbox); commits once per message."""
    session.info.pop(OUTBOX_PENDING, None)
    return platform_runtime(session).deliver_outbox(limit, keep=_without_case_facts)


def _without_case_facts(payload: dict) -> dict:
    """A thrown payload without the thrower's case facts, which are not the receiver's."""
    return {k: v for k, v in payload.items() if k not in SET_BY_PLATFORM}


def waits_described(session, instance: m.ProcessInstance) -> list[dict]:
    """What a case waits for, in words: “等待消息：缴费完成（办件编号 …）”."""
    return [
        {
            "kind": wait.kind,
            "name": wait.name,
            "bpmn_id": wait.bpmn_id,
            "correlation": wait_correlation(wait),
            "since": wait.created_at,
            "label": describe_wait(wait),
        }
        for wait in pending_waits(session, instance)
    ]


def registered_senders(session) -> list[m.MessageSender]:
    return list(
        session.scalars(
            select(m.MessageSender).order_by(m.MessageSender.kind, m.MessageSender.name)
        )
    )


def register_sender(
    session, kind: str, name: str, sender: str | None, actor: str
) -> m.MessageSender:
    """Record that an outside system sends this message or signal (deploy checks read it)."""
    found = session.scalars(
        select(m.MessageSender).where(m.MessageSender.kind == kind, m.MessageSender.name == name)
    ).first()
    if found is None:
        found = m.MessageSender(kind=kind, name=name, created_by=actor)
        session.add(found)
    found.sender = sender
    session.flush()
    return found


def platform_sends(name: str, sender: str) -> None:
    """The platform itself sends message ``name`` (deploy checks do not warn that nobody does)."""
    message_checks.platform_sends(m.MESSAGE, name, sender)


def install(app) -> None:
    """After a request that made instances throw messages, deliver them (after its commit)."""

    @app.after_request
    def _deliver_thrown(response):
        if db.session.info.get(OUTBOX_PENDING) and response.status_code < 400:
            try:
                deliver_pending(db.session)
            except Exception:  # the scheduler retries what is left in the outbox
                db.session.rollback()
                log.exception("delivering thrown messages failed")
        return response


__all__ = [
    "broadcast_signal",
    "correlation_text",
    "deliver_message",
    "deliver_pending",
    "platform_sends",
    "register_sender",
    "registered_senders",
    "waits_described",
]
