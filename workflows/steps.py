"""Tree surgery and multi-instance rules behind the approval operations (退回, 撤回, 会签).

Pure functions on SpiffWorkflow objects (no database): which earlier steps a
step may return to, how a step is started anew after pruning dropped its old
task, the completion modes of 会签 tasks and adding or removing their signers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from . import spiff_compat

# --- which earlier steps one may return to -----------------------------------


def _is_gateway_join(spec) -> bool:
    return _is_parallel_gateway(spec) and len(spec.inputs) > 1


def _is_gateway_split(spec) -> bool:
    return _is_parallel_gateway(spec) and len(spec.outputs) > 1


def _is_parallel_gateway(spec) -> bool:
    return type(spec).__name__.endswith(("ParallelGateway", "InclusiveGateway"))


def entry_spec(process_spec, bpmn_id: str):
    """The spec that starts a user task anew: the task, its 会签 or its boundary-event split."""
    manual = [
        s
        for s in process_spec.task_specs.values()
        if s.bpmn_id == bpmn_id and getattr(s, "manual", False)
    ]
    if not manual:
        return None
    spec = manual[0]
    for parent in spec.inputs:
        if isinstance(parent, MultiInstanceTask) and parent.task_spec == spec.name:
            spec = parent
            break
    for parent in spec.inputs:
        if isinstance(parent, BoundaryEventSplit):
            return parent
    return spec


def _is_user_step(process_spec, spec) -> bool:
    if isinstance(spec, MultiInstanceTask):
        spec = process_spec.task_specs[spec.task_spec]
    return bool(getattr(spec, "manual", False) and spec.bpmn_id)


def upstream_steps(process_spec, task_spec) -> set[str]:
    """User tasks that can flow into ``task_spec`` from outside its parallel branch.

    Walking backwards, a parallel join leads into branches: steps inside them
    (depth > 0) are not targets until the walk leaves through their split. So a
    department's review may return to its own earlier steps or to any step before
    the split, never into another department's branch; a step after the join may
    return to steps before the split but not into a single branch.
    """
    start = task_spec
    for parent in task_spec.inputs:
        if isinstance(parent, MultiInstanceTask) and parent.task_spec == task_spec.name:
            start = parent
    found: set[str] = set()
    seen: set[tuple[str, int]] = set()
    stack = [(start, 0)]
    while stack:
        spec, depth = stack.pop()
        for source in spec.inputs:
            level = depth
            if _is_gateway_split(source):
                level = max(level - 1, 0)
            if (source.name, level) in seen or level > 20:
                continue
            seen.add((source.name, level))
            if level == 0 and _is_user_step(process_spec, source):
                found.add(source.bpmn_id)
            stack.append((source, level + 1 if _is_gateway_join(source) else level))
    return found


# --- starting a step anew ----------------------------------------------------


def carried_data(task) -> dict:
    """The data a step hands on when the case moves back from it.

    A 会签 instance holds its own item (``dept``); the case data is its parent's.
    """
    source = task.parent if is_instance(task) else task
    return copy.deepcopy(source.data)


def is_instance(task) -> bool:
    """True for one signer's instance of a multi-instance task."""
    parent = task.parent
    return (
        parent is not None
        and isinstance(parent.task_spec, MultiInstanceTask)
        and parent.task_spec.task_spec == task.task_spec.name
    )


def rerun_outputs(entry) -> set[str]:
    """Output lists of the 会签 tasks reachable from ``entry``.

    A 会签 that runs again refuses a non-empty output list (SpiffWorkflow wants
    it empty or a dict); the old round's answers are void once the case goes back.
    """
    names, seen, stack = set(), set(), [entry]
    while stack:
        spec = stack.pop()
        if spec.name in seen:
            continue
        seen.add(spec.name)
        output = getattr(spec, "data_output", None) if isinstance(spec, MultiInstanceTask) else None
        in_place = output is not None and spec.data_input is not None
        if output is not None and not (in_place and spec.data_input.bpmn_id == output.bpmn_id):
            names.add(output.bpmn_id)
        stack.extend(spec.outputs)
    return names


def reopen(workflow, from_task, entry, data: dict) -> list:
    """Cancel what followed the last run of ``entry`` and start ``entry`` anew.

    If that run is still in the tree as an ancestor of ``from_task`` (a step
    within the same parallel branch, or nothing was pruned), only its subtree
    goes: the other branches and their waits at the join stay. Otherwise
    pruning dropped it, which means it lies above every unfinished task: the
    whole tree below the root goes and the step hangs from the root.
    Returns the tasks removed.
    """
    cut = from_task
    while cut is not None and not (cut.task_spec is entry and cut.has_state(TaskState.COMPLETED)):
        cut = cut.parent
    if cut is not None and cut.parent is not None:
        anchor = cut.parent
        removed = list(cut)
        spiff_compat.remove_task(workflow, cut)
    else:
        anchor = workflow.task_tree
        removed = [t for child in anchor.children for t in child]
        spiff_compat.drop_children(anchor)
    spiff_compat.forget_removed_event_tasks(workflow)
    for name in rerun_outputs(entry):
        if isinstance(data.get(name), list):
            data.pop(name)
    task = spiff_compat.add_child(anchor, entry, TaskState.FUTURE)
    task.data = data
    spiff_compat.predict(entry, task, TaskState.PREDICTED_MASK | TaskState.FUTURE)
    # The new task keeps the data given; its parent is stale history here.
    spiff_compat.update_without_inheriting(entry, task)
    workflow.completed = False
    return removed


# --- 会签: completion modes and signers ----------------------------------------

AGREE = frozenset({"agree", "approve", "approved", "pass", "yes", "同意", "通过"})
MODES = ("all", "any", "sequential")


@dataclass(frozen=True)
class SignMode:
    kind: str  # all | any | sequential | ratio
    ratio: float = 1.0
    field: str = "decision"


def parse_sign_mode(value: str | None, field: str | None = None) -> SignMode | None:
    """``all``, ``any``, ``sequential`` or ``ratio:0.6``; None if absent; ValueError if bad."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    field = (field or "decision").strip() or "decision"
    if text in MODES:
        return SignMode(text, field=field)
    if text.startswith("ratio:"):
        ratio = float(text.split(":", 1)[1])
        if not 0 < ratio <= 1:
            raise ValueError(text)
        return SignMode("ratio", ratio, field)
    raise ValueError(text)


def task_properties(spec) -> dict:
    """Extension properties of a task, from spiffworkflow:properties or camunda:properties."""
    extensions = getattr(spec, "extensions", None) or {}
    if isinstance(extensions.get("properties"), dict):
        return dict(extensions["properties"])
    return {k: v for k, v in extensions.items() if isinstance(v, str)}


def sign_mode_of(spec) -> SignMode | None:
    properties = task_properties(spec)
    try:
        return parse_sign_mode(properties.get("sign_mode"), properties.get("sign_field"))
    except ValueError:
        return None


def instances(parent) -> list:
    return [c for c in parent.children if c.task_spec.name == parent.task_spec.task_spec]


def _remaining(parent) -> list:
    if isinstance(parent.task_spec, SequentialMultiInstanceTask):
        return spiff_compat.mi_remaining(parent)
    return []


def settle(parent) -> bool | None:
    """Apply the 会签 task's ``sign_mode`` after a signer finished; returns the outcome once decided.

    The outcome goes into the parent's data as ``<bpmn_id>_passed``, so gateways
    after the task can route on it. Signers no longer needed are cancelled.
    """
    child_spec = parent.workflow.spec.task_specs[parent.task_spec.task_spec]
    mode = sign_mode_of(child_spec)
    if mode is None or not parent.has_state(TaskState.STARTED | TaskState.READY):
        return None
    signers = instances(parent)
    done = [c for c in signers if c.has_state(TaskState.COMPLETED)]
    open_ = [c for c in signers if not c.has_state(TaskState.FINISHED_MASK)]
    total = len(done) + len(open_) + len(_remaining(parent))
    agreed = sum(1 for c in done if c.data.get(mode.field) in AGREE)
    pending = total - len(done)
    if mode.kind == "any":
        decided, passed = bool(done), bool(done) and done[0].data.get(mode.field) in AGREE
    elif mode.kind == "ratio":
        need = mode.ratio * total
        passed = agreed >= need - 1e-9
        decided = passed or agreed + pending < need - 1e-9
    else:  # all, sequential: everyone agrees; sequential stops at the first refusal
        passed = agreed == total
        refused = len(done) > agreed
        decided = pending == 0 or (mode.kind == "sequential" and refused)
    if not decided and not parent.has_state(TaskState.READY):
        return None
    passed = bool(passed) and decided
    for child in open_:
        child.cancel()
    if isinstance(parent.task_spec, SequentialMultiInstanceTask):
        spiff_compat.set_mi_remaining(parent, [])
    parent.data[f"{parent.task_spec.bpmn_id}_passed"] = passed
    spiff_compat.set_state(parent, TaskState.READY)
    return passed


def collection(parent) -> list:
    data_input = parent.task_spec.data_input
    if data_input is None or not data_input.exists(parent):
        raise TypeError("multi-instance task without an input collection")
    value = data_input.get(parent)
    if not isinstance(value, list):
        raise TypeError("multi-instance input collection is not a list")
    return value


def signer_of(task):
    """The collection item a 会签 instance was created for."""
    index = spiff_compat.mi_index(task)
    if index is None:
        return spiff_compat.mi_item(task)
    return collection(task.parent)[index]


def _forget_item(parent) -> None:
    # Without an output item, finished instances merge their whole data (the
    # input item too) into the parent, and a new instance would then refuse it.
    if parent.task_spec.input_item is not None:
        parent.data.pop(parent.task_spec.input_item.bpmn_id, None)


def add_signer(parent, signer) -> None:
    """Append a signer to a running 会签: a new instance (parallel) or a later turn (sequential)."""
    items = collection(parent)
    items.append(signer)
    _forget_item(parent)
    if isinstance(parent.task_spec, SequentialMultiInstanceTask):
        spiff_compat.set_mi_remaining(parent, [*_remaining(parent), len(items) - 1])
    else:
        spiff_compat.add_mi_instance(parent, signer, len(items) - 1)


def remove_signer(parent, signer) -> None:
    """Take a signer who has not signed out of a running 会签 (the caller checked that)."""
    items = collection(parent)
    index = items.index(signer)
    was_running = False
    for child in instances(parent):
        if spiff_compat.mi_index(child) == index and not child.has_state(TaskState.FINISHED_MASK):
            spiff_compat.remove_task(parent.workflow, child)
            was_running = True
    del items[index]
    for child in instances(parent):
        position = spiff_compat.mi_index(child)
        if isinstance(position, int) and position > index:
            spiff_compat.set_mi_index(child, position - 1)
    sequential = isinstance(parent.task_spec, SequentialMultiInstanceTask)
    if sequential:
        spiff_compat.set_mi_remaining(
            parent, [i - 1 if i > index else i for i in _remaining(parent) if i != index]
        )
        if was_running and _remaining(parent):
            _forget_item(parent)
            spiff_compat.start_next_mi_instance(parent)
    finished = all(c.has_state(TaskState.COMPLETED) for c in instances(parent))
    if settle(parent) is None and finished and not _remaining(parent):
        spiff_compat.set_state(parent, TaskState.READY)
