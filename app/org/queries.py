"""Read-side queries of the organisation pages: one level of the tree, one page of users.

A county has hundreds of villages and users, so every page reads a bounded slice
with a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.models.auth import User
from app.models.org import AssignmentRules, Backup, Department, Post, Region
from workflows.models import ProcessDefinition

from .services import path_ids

SEARCH_LIMIT = 50


@dataclass
class RegionRow:
    region: Region
    children: int
    departments: int


@dataclass
class DepartmentRow:
    department: Department
    posts: list[Post]
    sections: list[DepartmentRow]


def _count_by(session, column, ids) -> dict[int, int]:
    if not ids:
        return {}
    stmt = select(column, func.count()).where(column.in_(ids)).group_by(column)
    return dict(session.execute(stmt).all())


def child_regions(session, parent: Region | None) -> list[RegionRow]:
    """The regions directly under ``parent`` (the top regions when None), with counts."""
    stmt = select(Region).where(
        Region.parent_id.is_(None) if parent is None else Region.parent_id == parent.id
    )
    regions = list(session.scalars(stmt.order_by(Region.code)))
    ids = [r.id for r in regions]
    children = _count_by(session, Region.parent_id, ids)
    departments = _count_by(session, Department.region_id, ids)
    return [RegionRow(r, children.get(r.id, 0), departments.get(r.id, 0)) for r in regions]


def search_regions(session, text: str) -> list[tuple[Region, list[Region]]]:
    """Regions whose name contains or whose code starts with ``text``, with their ancestors."""
    stmt = select(Region).where(
        or_(
            Region.name.contains(text, autoescape=True),
            Region.code.startswith(text, autoescape=True),
        )
    )
    found = list(session.scalars(stmt.order_by(Region.code).limit(SEARCH_LIMIT)))
    wanted = {i for r in found for i in path_ids(r)[:-1]}
    ancestors = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(wanted)))}
    return [(r, [ancestors[i] for i in path_ids(r)[:-1] if i in ancestors]) for r in found]


def _posts_of(session, department_ids: list[int]) -> dict[int, list[Post]]:
    posts: dict[int, list[Post]] = {i: [] for i in department_ids}
    stmt = (
        select(Post)
        .where(Post.department_id.in_(department_ids))
        .options(selectinload(Post.holders))
        .order_by(Post.id)
    )
    for post in session.scalars(stmt):
        posts[post.department_id].append(post)
    return posts


def department_rows(session, departments: list[Department]) -> list[DepartmentRow]:
    """Departments with their posts (and holders) and their sections with theirs."""
    top_ids = [d.id for d in departments]
    sections = list(
        session.scalars(
            select(Department).where(Department.parent_id.in_(top_ids)).order_by(Department.code)
        )
    )
    posts = _posts_of(session, top_ids + [s.id for s in sections])
    return [
        DepartmentRow(
            d,
            posts[d.id],
            [DepartmentRow(s, posts[s.id], []) for s in sections if s.parent_id == d.id],
        )
        for d in departments
    ]


def region_departments(session, region: Region) -> list[DepartmentRow]:
    stmt = select(Department).where(
        Department.region_id == region.id, Department.parent_id.is_(None)
    )
    return department_rows(session, list(session.scalars(stmt.order_by(Department.code))))


def users_page(session, text: str, page: int, size: int) -> tuple[list[User], int]:
    """One page of users matching ``text`` (username, name or phone), and the total."""
    stmt = select(User)
    if text:
        stmt = stmt.where(
            or_(
                User.username.contains(text, autoescape=True),
                User.display_name.contains(text, autoescape=True),
                User.phone.contains(text, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    users = session.scalars(
        stmt.options(selectinload(User.posts).selectinload(Post.department))
        .order_by(User.username)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return list(users), total


def backups(session, *, current_only: bool, at: datetime) -> list[Backup]:
    """AB backups, newest first; ``current_only`` keeps those in force now or later."""
    stmt = select(Backup).options(
        selectinload(Backup.holder), selectinload(Backup.backup), selectinload(Backup.department)
    )
    if current_only:
        stmt = stmt.where(or_(Backup.valid_to.is_(None), Backup.valid_to > at))
    return list(
        session.scalars(stmt.order_by(Backup.valid_from.desc(), Backup.id.desc()).limit(200))
    )


def processes_with_rules(session) -> list[tuple[str, str | None, AssignmentRules | None]]:
    """Every deployed process and every process with saved rules: (id, name, rules)."""
    latest = (
        select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.process_id)
        .subquery()
    )
    names = dict(
        session.execute(
            select(ProcessDefinition.process_id, ProcessDefinition.name).join(
                latest,
                (latest.c.process_id == ProcessDefinition.process_id)
                & (latest.c.version == ProcessDefinition.version),
            )
        ).all()
    )
    rules = {r.process_id: r for r in session.scalars(select(AssignmentRules))}
    return [(pid, names.get(pid), rules.get(pid)) for pid in sorted(set(names) | set(rules))]
