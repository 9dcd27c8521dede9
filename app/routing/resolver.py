"""Turn an assignment description into posts and people of the org model."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from app.models.auth import User
from app.models.org import LEVELS, Department, Post, Region

from .describe import Assignment

WORK_ROLES = ("window_clerk", "handler", "reviewer", "deputy_leader", "chief_leader")
LEADER_ROLES = ("chief_leader", "deputy_leader")


@dataclass
class Resolution:
    """Where a task goes: posts and people, and where the search landed."""

    posts: list[Post] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    department: Department | None = None
    region: Region | None = None
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not self.posts and not self.users


def region_chain(session, place: Region | None) -> list[Region]:
    """The place and its ancestors, nearest first."""
    if place is None:
        return []
    ids = [int(i) for i in place.path.strip("/").split("/") if i]
    regions = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    return [regions[i] for i in reversed(ids) if i in regions]


def place_of(session, data: dict) -> Region | None:
    code = str((data or {}).get("place") or "").strip()
    if not code:
        return None
    return session.scalars(select(Region).where(Region.code == code)).first()


def _at_level(chain: list[Region], level: str) -> Region | None:
    return next((r for r in chain if r.level == level), None)


def _find_department(session, regions: list[Region] | None, text: str) -> Department | None:
    """A top-level department by code, exact name, or a name ending with ``text``."""
    stmt = select(Department).where(
        Department.parent_id.is_(None),
        or_(Department.code == text, Department.name == text, Department.name.endswith(text)),
    )
    if regions is None:
        found = session.scalars(stmt).all()
        return found[0] if len(found) == 1 else None
    for region in regions:
        found = session.scalars(stmt.where(Department.region_id == region.id)).all()
        exact = [d for d in found if d.code == text or d.name == text]
        if exact or found:
            return (exact or found)[0]
    return None


def _find_section(session, department: Department, text: str) -> Department | None:
    return session.scalars(
        select(Department).where(
            Department.parent_id == department.id,
            or_(Department.name == text, Department.name.endswith(text), Department.code == text),
        )
    ).first()


def _posts(session, department_ids: list[int], roles) -> list[Post]:
    if not department_ids:
        return []
    return list(
        session.scalars(
            select(Post)
            .where(Post.department_id.in_(department_ids), Post.role.in_(roles))
            .order_by(Post.id)
        )
    )


def _target_region(assignment: Assignment, chain: list[Region]) -> tuple[Region | None, str | None]:
    if not assignment.level:
        return (chain[0] if chain else None), None
    if not chain:
        return None, "办件没有办理地点（place），无法按层级确定办理人。"
    if assignment.level not in LEVELS:
        return None, f"未知的层级 {assignment.level}。"
    region = _at_level(chain, assignment.level)
    if region is None:
        return None, f"办理地点 {chain[0].name} 之上没有{assignment.level}级区划。"
    return region, None


def resolve(session, assignment: Assignment, place: Region | None) -> Resolution:
    """Candidates for an assignment, searched relative to the case's place."""
    if assignment.unresolved:
        return Resolution(note=f"办件数据中缺少 {'、'.join(assignment.unresolved)}。")
    if assignment.user:
        user = session.scalars(select(User).where(User.username == assignment.user)).first()
        if user is None or not user.is_active:
            return Resolution(note=f"指定的办理人 {assignment.user} 不存在或已停用。")
        return Resolution(users=[user])
    if assignment.is_empty:
        return Resolution(note="流程图没有说明该步骤由谁办理（泳道或属性）。")
    chain = region_chain(session, place)
    region, problem = _target_region(assignment, chain)
    if problem:
        return Resolution(note=problem)
    return _resolve_in(session, assignment, chain, region)


def _resolve_in(session, assignment, chain, region) -> Resolution:
    roles = (assignment.role,) if assignment.role else WORK_ROLES
    if not assignment.department:
        if region is None:
            return Resolution(note="办件没有办理地点（place），也没有指定部门。")
        departments = session.scalars(
            select(Department.id).where(Department.region_id == region.id)
        ).all()
        posts = _posts(session, list(departments), roles)
        return Resolution(
            posts=posts, region=region, note=None if posts else f"{region.name}没有该岗位。"
        )
    search = [region] if assignment.level else (chain or None)
    department = _find_department(session, search, assignment.department)
    if department is None:
        where = region.name if region is not None else "全部区划"
        return Resolution(region=region, note=f"在{where}找不到部门“{assignment.department}”。")
    target = department
    if assignment.section:
        target = _find_section(session, department, assignment.section)
        if target is None:
            return Resolution(
                department=department, note=f"{department.name}没有股室“{assignment.section}”。"
            )
    posts = _posts(session, [target.id], roles)
    if not posts and not assignment.section:
        sections = session.scalars(
            select(Department.id).where(Department.parent_id == department.id)
        ).all()
        posts = _posts(session, list(sections), roles)
    note = None if posts else f"{target.name}没有该岗位。"
    return Resolution(posts=posts, department=department, region=department.region, note=note)


def leader_posts(session, resolution: Resolution, chain: list[Region]) -> list[Post]:
    """The leader posts to fall back on: the department's, else the place's."""
    if resolution.department is not None:
        posts = _posts(session, [resolution.department.id], LEADER_ROLES)
        if posts:
            return sorted(posts, key=lambda p: LEADER_ROLES.index(p.role))[:1]
    for region in ([resolution.region] if resolution.region else []) + chain:
        departments = session.scalars(
            select(Department.id).where(Department.region_id == region.id)
        ).all()
        posts = _posts(session, list(departments), ("chief_leader",))
        if posts:
            return posts[:1]
    return []


def admin_posts(session, chain: list[Region]) -> list[Post]:
    """The nearest 系统管理员 post above the place (or anywhere if there is no place)."""
    for region in chain:
        departments = session.scalars(
            select(Department.id).where(Department.region_id == region.id)
        ).all()
        posts = _posts(session, list(departments), ("admin",))
        if posts:
            return posts
    return list(session.scalars(select(Post).where(Post.role == "admin").order_by(Post.id)).all())
