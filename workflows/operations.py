"""The approval operations: 退回, 撤回, 转办, 委派, 加签 and 减签.

Functions over the runtime's public API: each opens a change (which locks the
instance row like a completion does and asks the guard), checks everything
before it changes anything, and records an ``instance_event`` row with who,
when and why. ``Runtime`` offers each as a method. The tree surgery lives in
``steps``; docs/RUNTIME.md explains how a return works across pruning.
"""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import case, func, select

from . import models as m
from . import spiff_compat, steps
from .checks import check_open, check_running, raise_conflict
from .errors import OperationRefused, ReasonRequired, UnknownStep, WorkItemConflict
from .state import find_task
from .steps import (
    carried_data,
    collection,
    entry_spec,
    instances,
    reopen,
    signer_of,
    upstream_steps,
)

# --- 退回 -------------------------------------------------------------------------


def return_targets(runtime, work_item_id: int) -> list[dict]:
    """Steps an open work item may be returned to, the most recent first (for the UI)."""
    item = runtime.work_item(work_item_id)
    targets = _return_targets(runtime, item.instance, item)
    return [{"bpmn_id": bpmn_id, "name": name} for bpmn_id, name in targets.items()]


def return_to(
    runtime,
    work_item_id: int,
    target_bpmn_id: str,
    actor: str,
    reason: str,
    version: int | None = None,
) -> m.ProcessInstance:
    """Send the case back from an open step to an earlier one it passed through.

    Within a parallel branch only that branch starts again (the join still
    waits for all branches); a step before the split cancels every open branch.
    """
    reason = _required(reason, "退回")
    with runtime.change_for_item(work_item_id, actor, action="return", autoflush=False) as change:
        instance = change.instance
        item = _open_item(change, work_item_id, version, actor)
        entry = _entry(runtime, instance, target_bpmn_id)
        targets = _return_targets(runtime, instance, item)
        if target_bpmn_id not in targets:
            raise OperationRefused(
                f"不能退回到“{target_bpmn_id}”：只能退回到办件已经办理过、"
                "且在当前步骤之前的步骤（并行审查中为本分支的前序步骤或分支之前的步骤）。",
                targets=list(targets),
            )
        task = _ready_task(change.workflow, item)
        _close_item(runtime, item, m.RETURNED, actor)
        change.event(
            "returned",
            task=task,
            item=item,
            actor=actor,
            message=reason,
            data={"to": target_bpmn_id, "to_name": targets[target_bpmn_id]},
        )
        _reopen(change, task, entry, item)
    return instance


def _return_targets(runtime, instance, item) -> dict[str, str]:
    spec = _manual_spec(runtime, instance, item.bpmn_id)
    if spec is None:
        return {}
    upstream = upstream_steps(runtime.process_specs(instance.definition_id).spec, spec)
    rows = runtime.session.execute(
        select(m.WorkItem.bpmn_id, func.max(m.WorkItem.name), func.max(m.WorkItem.id))
        .where(m.WorkItem.instance_id == instance.id, m.WorkItem.status == m.DONE)
        .group_by(m.WorkItem.bpmn_id)
        .order_by(func.max(m.WorkItem.id).desc())
    )
    upstream.discard(item.bpmn_id)  # a loop leads back to the step itself: not a return
    return {bpmn_id: name or bpmn_id for bpmn_id, name, _ in rows if bpmn_id in upstream}


def _reopen(change, from_task, entry, item) -> None:
    """Start ``entry`` anew from ``from_task``; new work follows ``item``."""
    workflow = change.workflow
    workflow.last_task = None
    if change.engine(lambda: reopen(workflow, from_task, entry, carried_data(from_task))):
        change.advance()
    change.reopened_from = item.id


# --- 撤回 -------------------------------------------------------------------------


def take_back(runtime, work_item_id: int, actor: str, reason: str | None = None):
    """Take back my completed step while the step(s) it opened are untouched."""
    with runtime.change_for_item(
        work_item_id, actor, action="take_back", autoflush=False
    ) as change:
        instance = change.instance
        item = runtime.work_item(work_item_id, refresh=True)
        _check_can_take_back(runtime, instance, item, actor)
        following = list(
            runtime.session.scalars(
                select(m.WorkItem)
                .where(m.WorkItem.previous_item_id == item.id)
                .order_by(m.WorkItem.id)
                .execution_options(populate_existing=True)
            )
        )
        busy = [
            n for n in following if n.status != m.OPEN or n.assignee or n.delegation is not None
        ]
        if busy:
            raise OperationRefused(
                f"下一步“{busy[0].name}”已被认领或办理，不能撤回。", bpmn_id=busy[0].bpmn_id
            )
        entry = _entry(runtime, instance, item.bpmn_id)
        from_task = _take_back_origin(runtime, change, item, following)
        change.open_items = runtime.open_work_items(instance.id)
        _close_item(runtime, item, m.RETURNED, actor, completed=False)
        change.event("taken_back", item=item, actor=actor, message=reason)
        _reopen(change, from_task, entry, item)
    return instance


def take_back_offers(runtime, items: list[m.WorkItem], actor: str) -> set[int]:
    """The ids among ``items`` that ``actor`` can take back now (for offering 撤回).

    The checks ``take_back`` makes that need no workflow state: done by the actor,
    the instance running, not a 会签, and the steps it opened untouched and
    reached from it (not through a join of parallel branches). A step that opened
    nothing is offered while the instance waits on work that opened before it."""
    mine = [i for i in items if i.status == m.DONE and i.completed_by == actor]
    if not mine:
        return set()
    session = runtime.session
    following: dict[int, list[m.WorkItem]] = {}
    for row in session.scalars(
        select(m.WorkItem).where(m.WorkItem.previous_item_id.in_([i.id for i in mine]))
    ):
        following.setdefault(row.previous_item_id, []).append(row)
    # per instance: whether it waits on open work, and when its newest step opened
    waiting = dict(
        session.execute(
            select(m.WorkItem.instance_id, func.max(m.WorkItem.created_at))
            .where(m.WorkItem.instance_id.in_({i.instance_id for i in mine}))
            .group_by(m.WorkItem.instance_id)
            .having(func.sum(case((m.WorkItem.status == m.OPEN, 1), else_=0)) > 0)
        ).all()
    )
    offered = set()
    for item in mine:
        instance = item.instance
        if instance.status not in (m.RUNNING, m.ERROR):
            continue
        spec = _manual_spec(runtime, instance, item.bpmn_id)
        if spec is None or any(isinstance(p, MultiInstanceTask) for p in spec.inputs):
            continue
        opened = following.get(item.id, [])
        if not opened:
            # e.g. a branch waiting at a join: only while nothing opened after it
            newest = waiting.get(instance.id)
            if newest is not None and item.completed_at and newest <= item.completed_at:
                offered.add(item.id)
            continue
        if any(n.status != m.OPEN or n.assignee or n.delegation is not None for n in opened):
            continue
        after = _manual_spec(runtime, instance, opened[0].bpmn_id)
        specs = runtime.process_specs(instance.definition_id)
        if after is not None and item.bpmn_id in upstream_steps(specs.spec, after):
            offered.add(item.id)
    return offered


def _check_can_take_back(runtime, instance, item, actor) -> None:
    if item.status == m.OPEN:
        raise OperationRefused("该步骤尚未办理，无需撤回。")
    if item.status != m.DONE:
        raise OperationRefused("该步骤已被退回或取消，不能撤回。", status=item.status)
    if item.completed_by != actor:
        raise OperationRefused("只能撤回自己办理的步骤。")
    check_running(instance)
    spec = _manual_spec(runtime, instance, item.bpmn_id)
    if spec is None or any(isinstance(p, MultiInstanceTask) for p in spec.inputs):
        raise OperationRefused("会签意见提交后不能撤回；如需更改，请由发起人减签后重新加签。")


def _take_back_origin(runtime, change, item, following):
    """The task the case moves back from: a step this one opened, or itself."""
    instance, workflow = change.instance, change.workflow
    if following:
        task = find_task(workflow, UUID(following[0].task_id))
        spec = _manual_spec(runtime, instance, following[0].bpmn_id)
        specs = runtime.process_specs(instance.definition_id)
        if task is None or item.bpmn_id not in upstream_steps(specs.spec, spec):
            raise OperationRefused(
                "后续步骤由多个并行分支汇合而成，不能单独撤回本分支；请由后续步骤的办理人退回。"
            )
        return task
    task = find_task(workflow, UUID(item.task_id))
    if task is None or task.workflow is not workflow:
        raise OperationRefused("流程已继续流转，不能撤回。")
    return task


# --- 转办 and 委派 ------------------------------------------------------------------


def transfer(
    runtime, work_item_id: int, actor: str, to_user: str, reason: str, version: int | None = None
) -> m.WorkItem:
    """Hand an open work item over to a colleague, who owns it from now on."""
    reason = _required(reason, "转办")
    to_user = _other_user(to_user, actor, "转办")
    with runtime.change_for_item(work_item_id, actor, action="transfer") as change:
        item = _open_item(change, work_item_id, version, actor)
        previous = item.assignee
        item.assignee = to_user
        item.claimed_at = runtime.clock()
        item.version += 1
        change.event(
            "transferred",
            item=item,
            actor=actor,
            message=reason,
            data={"from": previous, "to": to_user},
        )
    return item


def delegate(
    runtime, work_item_id: int, actor: str, to_user: str, reason: str, version: int | None = None
) -> m.WorkItem:
    """Ask a colleague for an opinion; the owner completes the item after the answer."""
    reason = _required(reason, "委派")
    to_user = _other_user(to_user, actor, "委派")
    with runtime.change_for_item(work_item_id, actor, action="delegate") as change:
        item = _open_item(change, work_item_id, version, actor)
        if item.assignee is None:
            item.assignee = actor
            item.claimed_at = runtime.clock()
        item.delegated_by = actor
        item.delegated_to = to_user
        item.delegation = m.DELEGATION_PENDING
        item.delegation_answer = None
        item.version += 1
        change.event("delegated", item=item, actor=actor, message=reason, data={"to": to_user})
    return item


def resolve_delegation(
    runtime, work_item_id: int, actor: str, answer: str, version: int | None = None
) -> m.WorkItem:
    """The delegate answers; the item goes back to its owner, who must complete it."""
    answer = _required(answer, "答复委派")
    with runtime.change_for_item(work_item_id, actor, action="resolve_delegation") as change:
        item = runtime.work_item(work_item_id, refresh=True)
        if item.status != m.OPEN or item.delegation != m.DELEGATION_PENDING:
            raise OperationRefused("该待办没有等待答复的委派。")
        if item.delegated_to != actor:
            raise OperationRefused(f"只有被委派人 {item.delegated_to} 可以答复。")
        if version is not None and item.version != version:
            raise_conflict(item, version, actor)
        item.delegation = m.DELEGATION_ANSWERED
        item.delegation_answer = answer
        item.version += 1
        change.event(
            "delegation_resolved",
            item=item,
            actor=actor,
            message=answer,
            data={"owner": item.delegated_by},
        )
    return item


# --- 加签 and 减签 ------------------------------------------------------------------


def add_signer(runtime, instance_id: int, bpmn_id: str, signer, actor: str, reason: str):
    """Add a signer to a running 会签 (multi-instance user task)."""
    reason = _required(reason, "加签")
    with runtime.change(instance_id, actor, action="add_signer", autoflush=False) as change:
        parent = _running_cosign(runtime, change, bpmn_id)
        if signer in collection(parent):
            raise OperationRefused(f"“{signer}”已在会签人中。")
        steps.add_signer(parent, signer)
        _signers_changed(change, parent, "signer_added", signer, actor, reason)
    return change.instance


def remove_signer(runtime, instance_id: int, bpmn_id: str, signer, actor: str, reason: str):
    """Take a signer who has not signed yet out of a running 会签."""
    reason = _required(reason, "减签")
    with runtime.change(instance_id, actor, action="remove_signer", autoflush=False) as change:
        parent = _running_cosign(runtime, change, bpmn_id)
        signers = collection(parent)
        if signer not in signers:
            raise OperationRefused(f"“{signer}”不在会签人中。")
        signed = [c for c in instances(parent) if c.has_state(TaskState.COMPLETED)]
        if any(signer_of(c) == signer for c in signed):
            raise OperationRefused(f"“{signer}”已签署意见，不能减签。")
        if len(signers) == 1:
            raise OperationRefused("会签至少要保留一人。")
        steps.remove_signer(parent, signer)
        _signers_changed(change, parent, "signer_removed", signer, actor, reason)
    return change.instance


def signers(runtime, instance_id: int, bpmn_id: str) -> list[dict]:
    """The signers of a running 会签 and where each stands (for the 加签/减签 UI).

    ``status``: ``signed``, ``open`` (an instance waits for them), ``waiting``
    (a later turn of a sequential 会签) or ``cancelled``; ``task_id`` links an
    instance to its work item.
    """
    workflow = runtime.restore(runtime.get_instance(instance_id))
    parent = _cosign_task(workflow, bpmn_id)
    if parent is None:
        return []
    rows, seen = [], set()
    for child in instances(parent):
        seen.add(spiff_compat.mi_index(child))
        if child.has_state(TaskState.COMPLETED):
            status = "signed"
        elif child.has_state(TaskState.CANCELLED):
            status = "cancelled"
        else:
            status = "open"
        rows.append({"signer": signer_of(child), "status": status, "task_id": str(child.id)})
    for index, signer in enumerate(collection(parent)):
        if index not in seen:
            rows.append({"signer": signer, "status": "waiting", "task_id": None})
    return rows


def _cosign_task(workflow, bpmn_id: str, running: bool = False):
    """The newest multi-instance task of ``bpmn_id`` still in the tree (running only if asked)."""
    found = [
        t
        for t in workflow.get_tasks()
        if isinstance(t.task_spec, MultiInstanceTask)
        and t.task_spec.bpmn_id == bpmn_id
        and (not running or t.has_state(TaskState.STARTED))
    ]
    return found[-1] if found else None


def _running_cosign(runtime, change, bpmn_id: str):
    instance = change.instance
    check_running(instance)
    if _manual_spec(runtime, instance, bpmn_id) is None:
        _entry(runtime, instance, bpmn_id)
    running = _cosign_task(change.workflow, bpmn_id, running=True)
    if running is None:
        raise OperationRefused(f"“{bpmn_id}”不是正在进行的会签，不能加签或减签。")
    try:
        collection(running)
    except TypeError as exc:
        raise OperationRefused("该会签不是按人员或部门列表生成的，不能加签或减签。") from exc
    return running


def _signers_changed(change, parent, kind, signer, actor, reason) -> None:
    change.event(
        kind,
        task=parent,
        actor=actor,
        message=reason,
        data={"signer": signer, "signers": list(collection(parent))},
    )
    change.workflow.last_task = None
    change.advance()


# --- shared checks ------------------------------------------------------------------


def _required(text: str | None, what: str) -> str:
    if text is None or not str(text).strip():
        raise ReasonRequired(f"{what}必须填写理由。")
    return str(text).strip()


def _other_user(to_user: str | None, actor: str, what: str) -> str:
    to_user = (to_user or "").strip()
    if not to_user:
        raise ReasonRequired(f"{what}必须指定接收人。")
    if to_user == actor:
        raise OperationRefused(f"不能{what}给自己。")
    return to_user


def _open_item(change, work_item_id: int, version: int | None, actor: str) -> m.WorkItem:
    """The open item of the locked instance the actor may act on."""
    item = change.work_item(work_item_id)
    if item.status != m.OPEN or (version is not None and item.version != version):
        raise_conflict(item, version, actor)
    check_open(item, item.version, actor)
    check_running(change.instance)
    return item


def _entry(runtime, instance, bpmn_id: str):
    entry = entry_spec(runtime.process_specs(instance.definition_id).spec, bpmn_id)
    if entry is None:
        version = instance.definition.version
        raise UnknownStep(
            f"该办件所用的流程图（第 {version} 版）中没有步骤“{bpmn_id}”。", bpmn_id=bpmn_id
        )
    return entry


def _manual_spec(runtime, instance, bpmn_id: str):
    spec = runtime.process_specs(instance.definition_id).spec
    for task_spec in spec.task_specs.values():
        if task_spec.bpmn_id == bpmn_id and getattr(task_spec, "manual", False):
            return task_spec
    return None


def _ready_task(workflow, item):
    task = find_task(workflow, UUID(item.task_id))
    if task is None or task.state != TaskState.READY:
        raise WorkItemConflict("该待办对应的流程步骤已不再等待办理，请刷新。")
    if task.workflow is not workflow:
        raise OperationRefused("子流程中的步骤暂不支持退回。")
    return task


def _close_item(runtime, item, status: str, actor: str, completed: bool = True) -> None:
    item.status = status
    if completed:
        item.completed_at = runtime.clock()
        item.completed_by = actor
    item.version += 1
