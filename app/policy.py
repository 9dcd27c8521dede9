"""Who may do what, decided in one place: by post (capabilities) and by jurisdiction.

Every staff page and API endpoint declares the capability it needs with
``requires``; object checks (may this user see this case, act on this work
item) are the functions below. Pages authenticate with the login session, the
API with bearer tokens; both end up here.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import false, or_, select, true, union_all
from sqlalchemy.orm import aliased

from app.errors import Forbidden, Unauthorized
from app.extensions import login_manager
from app.models.auth import User
from app.models.desk import CaseCopy
from app.models.org import Backup, Department, Post, Region, user_post
from app.models.routing import WorkItemCandidate
from app.vocabulary import WorkItemStatus
from workflows import models as m
from workflows.timeutil import utcnow

STAFF = "staff"  # any active staff account
CAPABILITIES = {
    "org.manage": "管理组织机构、人员、AB角和分派规则",
    "deploy": "部署流程图",
    "items.manage": "管理审批事项目录",
    "instances.manage": "查看、重试和终止办件实例",
    "supervise": "监督辖区内的所有办件",
    "statistics": "查看辖区（或本部门）的统计分析",
    "work": "办理分派给本人的待办",
    "intake": "受理申请、发起办件",
    "timers": "手动触发定时器",
    "messages": "向办件投递外部消息和信号（缴费、答复等），登记外部发送方",
    STAFF: "登录系统",
}
ROLE_CAPABILITIES = {
    "admin": set(CAPABILITIES),
    "designer": {"deploy", "instances.manage", "items.manage", STAFF},
    "inspector": {"supervise", "statistics", STAFF},
    "window_clerk": {"work", "intake", STAFF},
    "handler": {"work", STAFF},
    "reviewer": {"work", STAFF},
    "deputy_leader": {"work", "statistics", STAFF},
    "chief_leader": {"work", "statistics", STAFF},
}
# Posts that manage a region (its instances, cases and supervision), not one's own work.
MANAGERS = ("admin", "designer", "inspector")


# --- capabilities --------------------------------------------------------------


def capabilities(user: User | None) -> set[str]:
    """What a user may do, from their posts (system administrators may do everything)."""
    if user is None or not user.is_active:
        return set()
    if user.is_admin:
        return set(CAPABILITIES)
    found = {STAFF}
    for post in user.posts:
        found |= ROLE_CAPABILITIES.get(post.role, set())
    return found


def has(user: User | None, capability: str) -> bool:
    return capability in capabilities(user)


def acting_user() -> User | None:
    """The user behind this request: the bearer token's for the API (the API's
    blueprint resolves it before every request into ``g.api_user``), the login
    session's for pages."""
    if request.path.startswith("/api/"):
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def requires(capability: str):
    """Decorate a view: login (or token) and ``capability`` are required."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.path.startswith("/api/"):
                user = g.get("api_user")
                if user is None:
                    raise Unauthorized()
                if not has(user, capability):
                    raise Forbidden()
            else:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if not has(current_user, capability):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.required_capability = capability
        return wrapper

    return decorate


# --- jurisdiction ------------------------------------------------------------------


def stand_ins(session, user: User, at=None) -> list[Backup]:
    """Backups in force now in which ``user`` is the B角."""
    at = at or utcnow()
    return list(
        session.scalars(
            select(Backup).where(
                Backup.backup_id == user.id,
                Backup.valid_from <= at,
                or_(Backup.valid_to.is_(None), Backup.valid_to > at),
            )
        )
    )


def _post_ids(session, user_id: int, department_id: int | None = None) -> list[int]:
    """A user's posts, optionally only those in a department and its sections."""
    stmt = select(user_post.c.post_id).where(user_post.c.user_id == user_id)
    if department_id is not None:
        scope = select(Department.id).where(
            or_(Department.id == department_id, Department.parent_id == department_id)
        )
        stmt = stmt.join(Post, Post.id == user_post.c.post_id).where(Post.department_id.in_(scope))
    return list(session.scalars(stmt))


def _routed_ids(post_ids: list[int], user_id: int):
    """Ids of work items routed to these posts or to the person.

    Candidate rows written for a B角 when the item opened are records only; who
    stands in for whom is decided now, from the backups in force. Two selects,
    not an ``OR``, so that each is read from its own index alone.
    """
    live = WorkItemCandidate.on_behalf_of_id.is_(None)
    to_person = select(WorkItemCandidate.work_item_id).where(
        live, WorkItemCandidate.user_id == user_id
    )
    if not post_ids:
        return to_person
    to_posts = select(WorkItemCandidate.work_item_id).where(
        live, WorkItemCandidate.post_id.in_(post_ids)
    )
    return union_all(to_posts, to_person)


def _work_ids(username: str, post_ids: list[int], user_id: int, narrow) -> list:
    """Selects of the ids of a person's work: claimed by them, or routed to them unclaimed.

    Ids rather than an ``OR`` of conditions, so that the database can start from
    the person's few rows (assignee and candidate indexes) instead of testing
    every work item. ``narrow(item)`` gives conditions added to every select
    (open items only, one item, one instance) so that each stays on its index.
    """
    item = aliased(m.WorkItem)
    held = select(item.id).where(item.assignee == username, *narrow(item))
    routed = select(item.id).where(
        item.assignee.is_(None), item.id.in_(_routed_ids(post_ids, user_id)), *narrow(item)
    )
    # 委派: a colleague asked them for an opinion on their item
    asked = select(item.id).where(
        item.delegated_to == username, item.delegation == m.DELEGATION_PENDING, *narrow(item)
    )
    return [held, routed, asked]


def everything(_item) -> tuple:
    return ()


def open_only(item) -> tuple:
    return (item.status == WorkItemStatus.OPEN,)


def _one_item(item_id: int):
    return lambda item: (item.id == item_id,)


def _work_of(username: str, post_ids: list[int], user_id: int, narrow=everything):
    """SQL condition: work that is this person's (claimed by them, or routed to them)."""
    return m.WorkItem.id.in_(union_all(*_work_ids(username, post_ids, user_id, narrow)))


def _backup_ids(session, backup: Backup, narrow=everything) -> list:
    """Selects of the ids of the holder's work this backup covers (all, a department, a process)."""
    scope = narrow
    if backup.process_id:
        of_process = select(m.ProcessInstance.id).where(
            m.ProcessInstance.process_id == backup.process_id
        )

        def scope(item):
            return (*narrow(item), item.instance_id.in_(of_process))

    return _work_ids(
        backup.holder.username,
        _post_ids(session, backup.holder_id, backup.department_id),
        backup.holder_id,
        scope,
    )


def _backup_scope(session, backup: Backup, narrow=everything):
    """SQL condition: the holder's work this backup covers."""
    return m.WorkItem.id.in_(union_all(*_backup_ids(session, backup, narrow)))


def work_item_filter(session, user: User, *, narrow=everything):
    """SQL condition: work this user may take (own posts, named, or as B角).

    ``narrow`` (``open_only`` for worklists) is applied inside every branch, which
    keeps the query on the indexes however many closed items there are.
    """
    selects = _work_ids(user.username, _post_ids(session, user.id), user.id, narrow)
    for backup in stand_ins(session, user):
        selects += _backup_ids(session, backup, narrow)
    return m.WorkItem.id.in_(union_all(*selects))


def _item_matches(session, item: m.WorkItem, condition) -> bool:
    stmt = select(m.WorkItem.id).where(m.WorkItem.id == item.id, condition)
    return session.scalar(stmt) is not None


def can_act(session, user: User, item: m.WorkItem) -> bool:
    """May this user claim, release or complete the work item?

    Administrators may step in. A closed item can no longer be worked: whoever
    sees its case is told so by the runtime (a conflict), anyone else is refused;
    "closed" never opens an item (its data, files, return targets) to everyone.
    """
    if user.is_admin:
        return True
    if item.status != WorkItemStatus.OPEN:
        return can_view_instance(session, user, item.instance)
    return _item_matches(session, item, work_item_filter(session, user, narrow=_one_item(item.id)))


def claimed_by_colleague(session, user: User, item: m.WorkItem) -> bool:
    """Whether an open item routed to this user was claimed by someone it was routed to
    as well (a colleague on the same post, or a B角): the user is then told who holds
    it (a conflict), not that it is none of their business. Work transferred (转办) to
    someone outside its routing is no longer theirs at all."""
    if item.status != WorkItemStatus.OPEN or not item.assignee or item.assignee == user.username:
        return False
    holder = session.scalars(select(User).where(User.username == item.assignee)).first()
    return (
        holder is not None and routed_to(session, user, item) and routed_to(session, holder, item)
    )


def routed_to(session, user: User, item: m.WorkItem) -> bool:
    """Whether the item was routed to this user (own posts, by name, or to an A角 they
    stand in for), whoever has claimed it since."""
    people = [(user.id, _post_ids(session, user.id))]
    for backup in stand_ins(session, user):
        if backup.process_id is None or backup.process_id == item.instance.process_id:
            people.append(
                (backup.holder_id, _post_ids(session, backup.holder_id, backup.department_id))
            )
    return any(
        _item_matches(session, item, m.WorkItem.id.in_(_routed_ids(post_ids, user_id)))
        for user_id, post_ids in people
    )


def acting_for(session, user: User, item: m.WorkItem) -> str | None:
    """The colleague this user stands in for on this item (AB角), if not their own work."""
    narrow = _one_item(item.id)
    own = _work_of(user.username, _post_ids(session, user.id), user.id, narrow)
    if _item_matches(session, item, own):
        return None
    for backup in stand_ins(session, user):
        if _item_matches(session, item, _backup_scope(session, backup, narrow)):
            return backup.holder.username
    return None


def home_regions(session, user: User, roles: tuple[str, ...]) -> list[Region]:
    """Regions of the departments where the user holds one of ``roles``."""
    return list(
        session.scalars(
            select(Region)
            .join(Department, Department.region_id == Region.id)
            .join(Post, Post.department_id == Department.id)
            .join(user_post, user_post.c.post_id == Post.id)
            .where(user_post.c.user_id == user.id, Post.role.in_(roles))
            .distinct()
        )
    )


def instance_place(session, instance: m.ProcessInstance) -> Region | None:
    """The region named by the instance data's ``place`` (its code), if any."""
    code = (instance.data or {}).get("place")
    if not code:
        return None
    return session.scalars(select(Region).where(Region.code == str(code))).first()


def _within(place: Region | None, regions: list[Region]) -> bool:
    return place is not None and any(place.path.startswith(r.path) for r in regions)


def _place_within(session, instance: m.ProcessInstance, regions: list[Region]) -> bool:
    return bool(regions) and _within(instance_place(session, instance), regions)


# --- managers: administrators, designers and inspectors of a region -------------------


def managed_regions(session, user: User) -> list[Region] | None:
    """The regions (each with its subtree) a user manages: those of their manager posts
    (MANAGERS). ``None`` for platform administrators, who manage everywhere."""
    if user.is_admin:
        return None
    return home_regions(session, user, MANAGERS)


def manages_place(session, user: User, place: Region | None) -> bool:
    regions = managed_regions(session, user)
    return regions is None or _within(place, regions)


def manages_instance(session, user: User, instance: m.ProcessInstance) -> bool:
    """Whether the instance's place lies in a region the user manages. Platform
    administrators manage every instance, and whoever started one manages it (the only
    others to manage an instance without a place)."""
    regions = managed_regions(session, user)
    if regions is None or instance.started_by == user.username:
        return True
    return _place_within(session, instance, regions)


def _under(regions: list[Region]):
    """SQL condition on ``Region``: within one of ``regions`` or their subtrees."""
    return or_(false(), *[Region.path.startswith(r.path) for r in regions])


def managed_instances(session, user: User):
    """SQL condition on ``ProcessInstance``: the instances ``manages_instance`` allows."""
    regions = managed_regions(session, user)
    if regions is None:
        return true()
    codes = select(Region.code).where(_under(regions))
    return or_(
        m.ProcessInstance.data["place"].as_string().in_(codes),
        m.ProcessInstance.started_by == user.username,
    )


def managed_places(session, user: User):
    """Select of the ids of the places a user manages (``None``: everywhere)."""
    regions = managed_regions(session, user)
    if regions is None:
        return None
    return select(Region.id).where(_under(regions))


def _took_part(session, user: User, instance: m.ProcessInstance) -> bool:
    names = [user.username, *(b.holder.username for b in stand_ins(session, user))]
    stmt = select(m.WorkItem.id).where(
        m.WorkItem.instance_id == instance.id,
        or_(
            m.WorkItem.completed_by.in_(names),
            work_item_filter(session, user, narrow=lambda i: (i.instance_id == instance.id,)),
        ),
    )
    return session.scalar(stmt.limit(1)) is not None


def _copied_to(session, user: User, instance: m.ProcessInstance) -> bool:
    """A copy (抄送) lets its recipient read the case."""
    stmt = select(CaseCopy.id).where(
        CaseCopy.instance_id == instance.id, CaseCopy.recipient_id == user.id
    )
    return session.scalar(stmt.limit(1)) is not None


def can_view_instance(session, user: User, instance: m.ProcessInstance) -> bool:
    """Jurisdiction: designers and admins see their regions' instances (platform
    administrators all); supervisors their region; others what was routed to them or
    copied to them, and window clerks the cases of their own place."""
    caps = capabilities(user)
    if "instances.manage" in caps and manages_instance(session, user, instance):
        return True
    if "supervise" in caps and _place_within(
        session, instance, home_regions(session, user, ("inspector",))
    ):
        return True
    if instance.started_by == user.username or _took_part(session, user, instance):
        return True
    if _copied_to(session, user, instance):
        return True
    return _place_within(session, instance, home_regions(session, user, ("window_clerk",)))


def may_change_signers(session, user: User, instance_id: int, bpmn_id: str) -> bool:
    """Designers/administrators of the case's region, or whoever completed the step that
    opened the 会签."""
    instance = session.get(m.ProcessInstance, instance_id)
    if instance is None:
        return False
    if has(user, "instances.manage") and manages_instance(session, user, instance):
        return True
    openers = select(m.WorkItem.previous_item_id).where(
        m.WorkItem.instance_id == instance_id, m.WorkItem.bpmn_id == bpmn_id
    )
    return (
        session.scalar(
            select(m.WorkItem.id)
            .where(m.WorkItem.id.in_(openers), m.WorkItem.completed_by == user.username)
            .limit(1)
        )
        is not None
    )


def work_items_seen(session, user: User):
    """SQL condition on ``WorkItem`` for work-item lists: one's own work and, for those who
    manage instances, every item of the instances they manage (``None``: no limit)."""
    if not has(user, "instances.manage"):
        return work_item_filter(session, user)
    if managed_regions(session, user) is None:
        return None
    managed = select(m.ProcessInstance.id).where(managed_instances(session, user))
    return or_(work_item_filter(session, user), m.WorkItem.instance_id.in_(managed))
