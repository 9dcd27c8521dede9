"""Persisting workflow state: the serializer, pruning, and the live-workflow cache.

Specs are parsed once per definition and kept in memory, so the stored state
holds only the task tree and data; a restore re-attaches the cached specs.
The engine only needs the present: pruning drops completed history the tree
no longer uses (the database keeps that history), so a case returned 200
times costs what it cost in round one.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date, datetime, time
from decimal import Decimal

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event
from sqlalchemy.orm import Session

from .joins import common_ancestor
from .specs import CAMUNDA, ProcessSpecs
from .spiff_compat import StateOnlyConverter, encoding, keep_only_subtree

_LIVE = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


def _register_data_types(registry) -> None:
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
    )
    registry.register(
        time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))


class StateSerializer:
    """Serializes workflow state (without specs) for one extension dialect."""

    def __init__(self, config):
        self.registry = BpmnWorkflowSerializer.configure(config)
        _register_data_types(self.registry)
        self.converter = StateOnlyConverter(self.registry)
        self._inner = BpmnWorkflowSerializer(self.registry)

    def dumps(self, workflow) -> str:
        with encoding(self._inner) as encoder:
            dct = self.converter.to_dict(workflow)
            dct["v"] = VERSION
            return json.dumps(dct, cls=encoder, separators=(",", ":"))

    def loads(self, text: str, specs: ProcessSpecs):
        dct = json.loads(text)
        version = dct.pop("v", VERSION)
        if version in MIGRATIONS:
            MIGRATIONS[version](dct)
        return self.converter.restore(dct, specs)


_SERIALIZERS = {}
_SERIALIZERS_LOCK = threading.Lock()


def serializer_for(dialect: str) -> StateSerializer:
    with _SERIALIZERS_LOCK:
        if dialect not in _SERIALIZERS:
            _SERIALIZERS[dialect] = StateSerializer(
                CAMUNDA_CONFIG if dialect == CAMUNDA else SPIFF_CONFIG
            )
        return _SERIALIZERS[dialect]


# --- pruning -----------------------------------------------------------------


def _prune_tree(workflow) -> int:
    live = [t for t in workflow.tasks.values() if t.has_state(_LIVE)]
    root = workflow.task_tree
    if not live:
        return 0
    keep_from = common_ancestor(live)
    if keep_from is None or keep_from is root or keep_from.parent is root:
        return 0
    keep_only_subtree(root, keep_from)
    kept = {root.id}
    stack = [keep_from]
    while stack:
        task = stack.pop()
        kept.add(task.id)
        stack.extend(task.children)
    dropped = [task_id for task_id in workflow.tasks if task_id not in kept]
    for task_id in dropped:
        del workflow.tasks[task_id]
    if workflow.last_task is not None and workflow.last_task.id not in kept:
        workflow.last_task = None
    return len(dropped)


def find_task(workflow: BpmnWorkflow, task_id):
    """A task of the workflow or any of its subprocesses, or None."""
    task = workflow.tasks.get(task_id)
    if task is not None:
        return task
    for sub in workflow.subprocesses.values():
        task = sub.tasks.get(task_id)
        if task is not None:
            return task
    return None


def prune(workflow: BpmnWorkflow) -> int:
    """Drop finished history above the oldest task still in play; returns how many."""
    dropped = _prune_tree(workflow)
    for sub in list(workflow.subprocesses.values()):
        dropped += _prune_tree(sub)
    orphans = [tid for tid in workflow.subprocesses if find_task(workflow, tid) is None]
    for task_id in orphans:
        del workflow.subprocesses[task_id]
    return dropped


# --- the live-workflow cache -------------------------------------------------


class LiveWorkflows:
    """Workflows kept in memory between requests, keyed by instance and revision.

    A workflow is taken out for exclusive use and only put back after the
    transaction that changed it commits; any other outcome discards it. The
    locked instance row's revision decides whether a cached copy is current.
    """

    def __init__(self, capacity: int = 512):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[int, tuple[int, int, object]] = OrderedDict()

    def take(self, instance_id: int, revision: int, definition_id: int):
        with self._lock:
            entry = self._items.pop(instance_id, None)
        if entry is None or entry[0] != revision or entry[1] != definition_id:
            return None
        return entry[2]

    def put_after_commit(self, session: Session, instance_id, revision, definition_id, workflow):
        if self.capacity <= 0:
            return
        pending = session.info.setdefault("yimen_live_workflows", [])
        pending.append((self, instance_id, revision, definition_id, workflow))

    def _put(self, instance_id, revision, definition_id, workflow):
        with self._lock:
            self._items[instance_id] = (revision, definition_id, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def discard(self, instance_id: int) -> None:
        with self._lock:
            self._items.pop(instance_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@event.listens_for(Session, "after_commit")
def _publish_live_workflows(session):
    for cache, instance_id, revision, definition_id, workflow in session.info.pop(
        "yimen_live_workflows", []
    ):
        cache._put(instance_id, revision, definition_id, workflow)


@event.listens_for(Session, "after_rollback")
def _drop_live_workflows(session):
    session.info.pop("yimen_live_workflows", None)


def to_json_data(value):
    """Task data as plain JSON values, for the columns worklists and the API read."""
    if isinstance(value, dict):
        return {str(k): to_json_data(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_data(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
