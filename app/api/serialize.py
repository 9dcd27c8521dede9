"""Runtime rows as API JSON."""

from __future__ import annotations

from datetime import datetime

from app.privacy import masked


def iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def work_item_json(item, *, form_schema=None) -> dict:
    body = {
        "id": item.id,
        "version": item.version,
        "instance": item.instance_id,
        "task_id": item.task_id,
        "bpmn_id": item.bpmn_id,
        "name": item.name,
        "lane": item.lane,
        "kind": item.kind,
        "status": item.status,
        "assignee": item.assignee,
        "properties": item.properties,
        "form": item.form,
        "priority": item.priority,
        "due_at": iso(item.due_at),
        "created_at": iso(item.created_at),
        "completed_at": iso(item.completed_at),
        "completed_by": item.completed_by,
        "on_behalf_of": item.on_behalf_of,
    }
    if form_schema is not None:
        body["form_schema"] = form_schema
    return body


def event_json(event, reveal=frozenset()) -> dict:
    return {
        "id": event.id,
        "at": iso(event.at),
        "kind": event.kind,
        "bpmn_id": event.bpmn_id,
        "name": event.name,
        "work_item": event.work_item_id,
        "actor": event.actor,
        "on_behalf_of": event.on_behalf_of,
        "data": masked(event.data, reveal),
        "message": event.message,
    }


def instance_json(instance, *, work_items=None, history=None, reveal=frozenset()) -> dict:
    """The instance; personal numbers in its data and history masked except ``reveal``."""
    body = {
        "id": instance.id,
        "process_id": instance.process_id,
        "version": instance.definition.version,
        "status": instance.status,
        "revision": instance.revision,
        "data": masked(instance.data or {}, reveal),
        "error": instance.error,
        "next_timer_at": iso(instance.next_timer_at),
        "started_by": instance.started_by,
        "created_at": iso(instance.created_at),
        "ended_at": iso(instance.ended_at),
        "end_reason": instance.end_reason,
    }
    if work_items is not None:
        body["work_items"] = [work_item_json(i) for i in work_items]
    if history is not None:
        body["history"] = [event_json(e, reveal) for e in history]
    return body
