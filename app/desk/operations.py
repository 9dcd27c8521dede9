"""Work on a work item, for the pages and the API alike: claim, release, complete
and the approval operations (退回, 撤回, 转办, 委派, 加签/减签).

The runtime checks the case's state (and, through its guard, that the case is
not suspended); this module checks the person: their jurisdiction over the work
item, whose work they do as B角, the receiver of a transfer, who may change a
running 会签's signers.
"""

from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.cases.history import OPINION
from app.cases.intake_form import PLATFORM_KEYS
from app.errors import DomainError, Forbidden
from app.files import store
from app.models.auth import User
from app.models.cases import Case
from app.models.org import Post, user_post
from app.models.routing import WorkItemCandidate
from workflows import models as m
from workflows.errors import InvalidTaskData, RuntimeErrorBase

# The case's facts and its result (the diagram's scripts write it): never sent by a person.
SET_BY_PLATFORM = PLATFORM_KEYS | {"result"}


class OperationForbidden(Forbidden, RuntimeErrorBase):
    """The person may not do this operation on this work item or case."""

    code = "forbidden"


class UnknownReceiver(DomainError, RuntimeErrorBase):
    """The person named to receive the work does not exist or cannot work."""

    code = "unknown_receiver"


def _item(runtime, item_id: int) -> m.WorkItem:
    return runtime.work_item(item_id, refresh=True)


def require_actor(session, user: User, item: m.WorkItem) -> None:
    """Open work must be this person's; work routed to them that a colleague has
    claimed goes on to the runtime, which says who holds it (409), and so does a
    closed item, but only to whoever sees its case (``policy.can_act``)."""
    if not policy.can_act(session, user, item) and not policy.claimed_by_colleague(
        session, user, item
    ):
        raise OperationForbidden("该待办没有分派给您（或您的 A 角），不能办理。")


def claim(session, runtime, user: User, item_id: int, version: int | None = None):
    """认领: the item becomes this person's alone."""
    require_actor(session, user, _item(runtime, item_id))
    return runtime.claim(item_id, user.username, version=version)


def release(session, runtime, user: User, item_id: int, version: int | None = None):
    """释放: a claimed item goes back to everyone it was routed to."""
    require_actor(session, user, _item(runtime, item_id))
    return runtime.release(item_id, user.username, version=version)


def complete(session, runtime, user: User, item_id: int, data: dict, version: int | None):
    """办理: complete the item with the form's data and the version the person saw;
    as B角 the history records whose work it was."""
    item = _item(runtime, item_id)
    require_actor(session, user, item)
    schema = runtime.form_schema(item)
    data = writable_data(schema, case_facts(session, item.instance), data)
    foreign = store.foreign_files(session, schema, item.instance_id, data)
    if foreign:
        raise InvalidTaskData("文件字段指向了其他办件的文件。", foreign)
    on_behalf_of = policy.acting_for(session, user, item)
    return runtime.complete(item_id, data, version, user.username, on_behalf_of=on_behalf_of)


def case_facts(session, instance: m.ProcessInstance) -> dict:
    """The facts the platform gave the process of a case; a process started without a
    case (a test run, another system's) has none: what its forms asked for is not one."""
    of_case = session.scalar(select(Case.id).where(Case.instance_id == instance.id).limit(1))
    if of_case is None:
        return {}
    return {k: v for k, v in (instance.data or {}).items() if k in SET_BY_PLATFORM}


def fixed_fields(schema: dict | None, facts: dict) -> set[str]:
    """A step's fields a person may not fill: read-only ones and the case's facts
    (a process started without a case has none: its form may ask for them)."""
    properties = (schema or {}).get("properties") or {}
    return {
        k for k, p in properties.items() if _read_only(p) or (k in SET_BY_PLATFORM and k in facts)
    }


def writable_data(schema: dict | None, facts: dict, data) -> dict:
    """What a person sends to complete a step, limited to what the step lets them write.

    Its form's fields (without read-only ones) and the 办理意见 the task page adds;
    anything else, above all the case's facts (place, applicant, number, result),
    is refused and named; a form may ask for a fact only of a process started
    without a case (which has none). A step without a form declares no fields: it takes
    anything but those facts. The step's read-only and fact fields are filled from
    the case, so that what the form requires of them is there and stays the case's.
    ``facts`` are ``case_facts``.
    """
    if not isinstance(data, dict):
        raise InvalidTaskData("data 必须是 JSON 对象。", {"data": "必须是 JSON 对象。"})
    properties = (schema or {}).get("properties") if schema else None
    fixed = fixed_fields(schema, facts)
    refused = {}
    for key in data:
        asked = properties is not None and key in properties
        if key in SET_BY_PLATFORM and (key in fixed or not asked):
            refused[key] = "由平台根据办件填写，不能提交。"
        elif key in fixed:
            refused[key] = "只读字段，不能提交。"
        elif properties is not None and not asked and key != OPINION:
            refused[key] = "该步骤的表单没有这个字段。"
    if refused:
        raise InvalidTaskData("提交的数据含有不能填写的字段。", refused)
    return {**{k: facts[k] for k in fixed if k in facts}, **data}


def _read_only(prop) -> bool:
    return isinstance(prop, dict) and bool(prop.get("readOnly"))


def receiver(session, username: str) -> str:
    """An active colleague who holds at least one post (so can do the work), by
    login name or by a display name only one active person has."""
    name = (username or "").strip()
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None and name:  # typed by name (a page without the picker)
        named = session.scalars(
            select(User).where(User.display_name == name, User.active.is_(True)).limit(2)
        ).all()
        user = named[0] if len(named) == 1 else None
    holds_post = user is not None and session.scalar(
        select(user_post.c.post_id).where(user_post.c.user_id == user.id).limit(1)
    )
    if user is None or not user.active or not holds_post:
        raise UnknownReceiver(f"找不到可以接收的人员“{name}”（须为在岗人员）。")
    return user.username


def handover_colleagues(session, user: User, item: m.WorkItem) -> list[User]:
    """Whom 转办/委派 suggests: people of the user's departments and of the step's candidate
    departments (anyone active with a post may still be named)."""
    own = (
        select(Post.department_id)
        .join(user_post, user_post.c.post_id == Post.id)
        .where(user_post.c.user_id == user.id)
    )
    routed = (
        select(Post.department_id)
        .join(WorkItemCandidate, WorkItemCandidate.post_id == Post.id)
        .where(WorkItemCandidate.work_item_id == item.id)
    )
    posts = select(Post.id).where(Post.department_id.in_(own.union(routed)))
    return list(
        session.scalars(
            select(User)
            .join(user_post, user_post.c.user_id == User.id)
            .where(user_post.c.post_id.in_(posts), User.active.is_(True), User.id != user.id)
            .distinct()
            .order_by(User.username)
        )
    )


def return_targets(session, runtime, user: User, item_id: int) -> list[dict]:
    item = _item(runtime, item_id)
    require_actor(session, user, item)
    return runtime.return_targets(item_id)


def return_to(session, runtime, user: User, item_id: int, target: str, reason: str, version=None):
    require_actor(session, user, _item(runtime, item_id))
    return runtime.return_to(item_id, target, user.username, reason, version=version)


def take_back(session, runtime, user: User, item_id: int, reason: str | None = None):
    item = _item(runtime, item_id)
    if not policy.can_view_instance(session, user, item.instance):
        raise OperationForbidden("您无权查看该办件。")
    return runtime.take_back(item_id, user.username, reason)


def transfer(session, runtime, user: User, item_id: int, to: str, reason: str, version=None):
    require_actor(session, user, _item(runtime, item_id))
    return runtime.transfer(item_id, user.username, receiver(session, to), reason, version=version)


def delegate(session, runtime, user: User, item_id: int, to: str, reason: str, version=None):
    require_actor(session, user, _item(runtime, item_id))
    return runtime.delegate(item_id, user.username, receiver(session, to), reason, version=version)


def answer_delegation(session, runtime, user: User, item_id: int, answer: str, version=None):
    item = _item(runtime, item_id)
    if item.delegated_to != user.username:
        raise OperationForbidden("只有被委派人可以答复。")
    return runtime.resolve_delegation(item_id, user.username, answer, version=version)


def change_signers(
    session, runtime, user: User, instance_id: int, bpmn_id: str, signer, reason: str, add: bool
):
    runtime.get_instance(instance_id)  # an unknown case is "not found", not "forbidden"
    if not policy.may_change_signers(session, user, instance_id, bpmn_id):
        raise OperationForbidden("只有发起会签的人或流程管理员可以加签、减签。")
    change = runtime.add_signer if add else runtime.remove_signer
    return change(instance_id, bpmn_id, signer, user.username, reason)
