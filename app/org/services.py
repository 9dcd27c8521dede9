"""Organisation operations: plain functions taking a session and plain values.

Every refused change raises ``OrgError`` where the problem is found; its
``field`` names the form field or import column at fault (the names match), so
pages show the message next to the field and the importer names the column.
Functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import func, select

from app.auth.services import end_sessions, find_user, hash_password
from app.errors import DomainError
from app.models.auth import User
from app.models.org import (
    LEVEL_ZH,
    LEVELS,
    ROLE_BY_ZH,
    ROLES,
    AssignmentRules,
    Backup,
    Department,
    Post,
    Region,
)
from workflows.timeutil import utcnow

REGION_CODE = re.compile(r"^\d{12}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,79}$")
MIN_PASSWORD_LENGTH = 8
LEVEL_BY_ZH = {zh: key for key, zh in LEVEL_ZH.items()}

RULE_OPTIONS = {
    "when_empty": {"leader": "交本部门领导岗位办理", "admin": "交系统管理员处理"},
    "when_initiator": {
        "allow": "允许由发起人本人办理",
        "skip": "跳过这一步",
        "leader": "改交本部门领导办理",
    },
    "when_same_as_previous": {
        "allow": "允许同一人连续办理",
        "skip": "跳过这一步",
        "leader": "改交本部门领导办理",
    },
}
RULE_QUESTIONS = {
    "when_empty": "找不到办理人时",
    "when_initiator": "唯一的办理人是发起人本人时",
    "when_same_as_previous": "唯一的办理人刚办完上一步时",
}


class OrgError(DomainError):
    """A refused change to the organisation; ``message`` is shown to the user as is."""


# --- values ---------------------------------------------------------------


def _text(value, field: str, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise OrgError(f"请填写{label}", field)
    if len(value) > max_length:
        raise OrgError(f"{label}不能超过 {max_length} 个字符", field)
    return value


def parse_level(value) -> str:
    """A region level from its key (``township``) or its Chinese name (``乡镇``)."""
    value = (value or "").strip()
    level = value.lower() if value.lower() in LEVELS else LEVEL_BY_ZH.get(value)
    if level is None:
        choices = "、".join(f"{k}（{zh}）" for k, zh in LEVEL_ZH.items())
        raise OrgError(f"层级“{value}”无效，应为 {choices}", "level")
    return level


def parse_role(value) -> str:
    """A post role from its key (``reviewer``) or its Chinese name (``审核人``)."""
    value = (value or "").strip()
    if not value:
        raise OrgError("请填写岗位", "role")
    role = value.lower() if value.lower() in ROLES else ROLE_BY_ZH.get(value)
    if role is None:
        raise OrgError(f"岗位“{value}”无效，应为 {'、'.join(ROLES.values())} 或其英文代码", "role")
    return role


def clean_region(code, name) -> tuple[str, str]:
    code = _text(code, "code", "区划代码", 12)
    if not REGION_CODE.match(code):
        raise OrgError("区划代码应为 12 位数字（省2 市2 县2 乡镇3 村3）", "code")
    return code, _text(name, "name", "区划名称", 80)


def clean_department(code, name) -> tuple[str, str]:
    return _text(code, "code", "部门代码", 40), _text(name, "name", "部门名称", 120)


def clean_username(username) -> str:
    username = _text(username, "username", "用户名", 80)
    if not USERNAME.match(username):
        raise OrgError(
            "用户名只能由字母、数字和 _ . @ - 组成，至少 2 位，以字母或数字开头", "username"
        )
    return username


def clean_display_name(display_name, required: bool = True) -> str:
    return _text(display_name, "display_name", "姓名", 120, required)


def clean_phone(phone) -> str | None:
    return _text(phone, "phone", "电话", 32, required=False) or None


def clean_password(password) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise OrgError(f"密码至少 {MIN_PASSWORD_LENGTH} 位", "password")
    return password


def generate_password() -> str:
    """An initial password: 12 URL-safe characters, shown once to the administrator."""
    return secrets.token_urlsafe(9)


# --- regions --------------------------------------------------------------


def region_path(parent_path: str | None, region_id: int) -> str:
    """The materialised path of a region: its ancestors' ids and its own, "/1/5/42/"."""
    return f"{parent_path or '/'}{region_id}/"


def region_by_code(session, code: str) -> Region | None:
    return session.scalars(select(Region).where(Region.code == code)).first()


def require_region(session, code, field: str = "region_code") -> Region:
    region = region_by_code(session, (code or "").strip())
    if region is None:
        raise OrgError(f"找不到区划代码 {code}", field)
    return region


def check_level_under(level: str, parent) -> None:
    """A region sits at a deeper level than its parent (levels may be skipped).

    ``parent`` is anything with ``level`` and ``name`` (a Region or an import row).
    """
    if parent is not None and LEVELS.index(level) <= LEVELS.index(parent.level):
        raise OrgError(
            f"{LEVEL_ZH[level]}级区划不能设在{LEVEL_ZH[parent.level]}级区划“{parent.name}”之下",
            "level",
        )


def _check_unique_code(session, model, code: str, label: str, current=None) -> None:
    found = session.scalars(select(model).where(model.code == code)).first()
    if found is not None and found is not current:
        raise OrgError(f"{label} {code} 已被“{found.name}”使用", "code")


def create_region(session, *, code, name, level, parent: Region | None = None) -> Region:
    code, name = clean_region(code, name)
    level = parse_level(level)
    check_level_under(level, parent)
    _check_unique_code(session, Region, code, "区划代码")
    region = Region(code=code, name=name, level=level, parent=parent, path="/")
    session.add(region)
    session.flush()
    region.path = region_path(parent.path if parent else None, region.id)
    session.flush()
    return region


def update_region(session, region: Region, *, code, name, level, parent: Region | None) -> Region:
    """Rename, recode, relevel or move a region; a move rewrites the subtree's paths."""
    code, name = clean_region(code, name)
    level = parse_level(level)
    if parent is not None and parent.path.startswith(region.path):
        raise OrgError("不能把区划移到它自己或它的下级区划之下", "parent_code")
    check_level_under(level, parent)
    children_levels = session.scalars(
        select(Region.level).where(Region.parent_id == region.id).distinct()
    )
    if any(LEVELS.index(c) <= LEVELS.index(level) for c in children_levels):
        raise OrgError(f"该区划有下级区划，层级不能改为{LEVEL_ZH[level]}", "level")
    _check_unique_code(session, Region, code, "区划代码", current=region)
    region.code, region.name, region.level = code, name, level
    if region.parent_id != (parent.id if parent else None):
        _move_subtree(session, region, parent)
    session.flush()
    return region


def _move_subtree(session, region: Region, parent: Region | None) -> None:
    old = region.path
    new = region_path(parent.path if parent else None, region.id)
    for member in session.scalars(select(Region).where(Region.path.startswith(old))):
        member.path = new + member.path[len(old) :]
    region.parent = parent


def delete_region(session, region: Region) -> None:
    if session.scalar(select(func.count()).where(Region.parent_id == region.id)):
        raise OrgError(f"“{region.name}”还有下级区划，不能删除")
    if session.scalar(select(func.count()).where(Department.region_id == region.id)):
        raise OrgError(f"“{region.name}”还有部门，不能删除")
    session.delete(region)
    session.flush()


def region_subtree_ids(session, region: Region) -> list[int]:
    """Ids of a region and everything below it, by one path-prefix query."""
    return list(session.scalars(select(Region.id).where(Region.path.startswith(region.path))))


def path_ids(region: Region) -> list[int]:
    """The ids on a region's path, from the root down to the region itself."""
    return [int(part) for part in region.path.strip("/").split("/") if part]


def ancestor_at_level(session, region: Region, level: str) -> Region | None:
    """The region itself or its ancestor at ``level`` (e.g. the township of a village)."""
    if level not in LEVELS:
        raise OrgError(f"层级“{level}”无效", "level")
    return session.scalars(
        select(Region).where(Region.id.in_(path_ids(region)), Region.level == level)
    ).first()


def region_ancestors(session, region: Region) -> list[Region]:
    """The regions above ``region``, from the root down (for breadcrumbs)."""
    ids = path_ids(region)[:-1]
    found = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


# --- departments and sections ----------------------------------------------


def department_by_code(session, code: str) -> Department | None:
    return session.scalars(select(Department).where(Department.code == code)).first()


def require_department(session, code, field: str = "department_code") -> Department:
    department = department_by_code(session, (code or "").strip())
    if department is None:
        raise OrgError(f"找不到部门代码 {code}", field)
    return department


def _check_unique_name(session, region_id: int, parent_id, name: str, current=None) -> None:
    found = session.scalars(
        select(Department).where(
            Department.region_id == region_id,
            Department.parent_id.is_(None)
            if parent_id is None
            else Department.parent_id == parent_id,
            Department.name == name,
        )
    ).first()
    if found is not None and found is not current:
        where = "该部门下" if parent_id else "该区划下"
        raise OrgError(f"{where}已有名为“{name}”的{'股室' if parent_id else '部门'}", "name")


def create_department(
    session, *, code, name, region: Region | None = None, parent: Department | None = None
) -> Department:
    """A department of a region, or a section (股室) when ``parent`` is given."""
    code, name = clean_department(code, name)
    if parent is not None:
        if parent.is_section:
            raise OrgError("股室下不能再设股室", "parent_code")
        region = parent.region
    if region is None:
        raise OrgError("请填写所属区划", "region_code")
    _check_unique_code(session, Department, code, "部门代码")
    _check_unique_name(session, region.id, parent.id if parent else None, name)
    department = Department(code=code, name=name, region=region, parent=parent)
    session.add(department)
    session.flush()
    return department


def update_department(session, department: Department, *, code, name) -> Department:
    code, name = clean_department(code, name)
    _check_unique_code(session, Department, code, "部门代码", current=department)
    _check_unique_name(
        session, department.region_id, department.parent_id, name, current=department
    )
    department.code, department.name = code, name
    session.flush()
    return department


def delete_department(session, department: Department) -> None:
    if sections(session, department):
        raise OrgError(f"“{department.name}”还有股室，不能删除")
    if session.scalar(select(func.count()).where(Post.department_id == department.id)):
        raise OrgError(f"“{department.name}”还有岗位，请先删除岗位")
    if session.scalar(select(func.count()).where(Backup.department_id == department.id)):
        raise OrgError(f"“{department.name}”被 AB角设置引用，不能删除")
    session.delete(department)
    session.flush()


def sections(session, department: Department) -> list[Department]:
    return list(
        session.scalars(
            select(Department)
            .where(Department.parent_id == department.id)
            .order_by(Department.code)
        )
    )


# --- posts ----------------------------------------------------------------


def create_post(session, department: Department, role) -> Post:
    role = parse_role(role)
    exists = session.scalars(
        select(Post).where(Post.department_id == department.id, Post.role == role)
    ).first()
    if exists is not None:
        raise OrgError(f"“{department.name}”已有{ROLES[role]}岗位", "role")
    post = Post(department=department, role=role)
    session.add(post)
    session.flush()
    return post


def delete_post(session, post: Post) -> None:
    if post.holders:
        raise OrgError(f"“{post.title}”岗位还有人员，请先移除")
    session.delete(post)
    session.flush()


def assign_user(session, user: User, post: Post) -> None:
    if not user.active:
        raise OrgError(f"用户 {user.username} 已停用，不能任职", "username")
    if user in post.holders:
        raise OrgError(f"{user.display_name}（{user.username}）已在该岗位", "username")
    post.holders.append(user)
    session.flush()


def unassign_user(session, user: User, post: Post) -> None:
    if user in post.holders:
        post.holders.remove(user)
        session.flush()


# --- users ----------------------------------------------------------------


def require_user(session, username, field: str = "username") -> User:
    user = find_user(session, (username or "").strip())
    if user is None:
        raise OrgError(f"找不到用户 {username}", field)
    return user


def create_user(
    session, *, username, display_name, phone=None, password=None, is_admin: bool = False
) -> tuple[User, str | None]:
    """A staff account that must change its initial password at first login.

    Returns the user and the password when it was generated here (to show once).
    """
    username, display_name, phone = (
        clean_username(username),
        clean_display_name(display_name),
        clean_phone(phone),
    )
    if find_user(session, username) is not None:
        raise OrgError(f"用户名 {username} 已存在", "username")
    generated = None
    if not password:
        generated = password = generate_password()
    user = User(
        username=username,
        display_name=display_name,
        phone=phone,
        password_hash=hash_password(clean_password(password)),
        is_admin=is_admin,
        must_change_password=True,
    )
    session.add(user)
    session.flush()
    return user, generated


def update_user(session, user: User, *, display_name, phone, is_admin: bool, actor: User) -> User:
    display_name, phone = clean_display_name(display_name), clean_phone(phone)
    if user.id == actor.id and user.is_admin and not is_admin:
        raise OrgError("不能取消自己的管理员权限", "is_admin")
    user.display_name, user.phone, user.is_admin = display_name, phone, is_admin
    session.flush()
    return user


def set_user_active(session, user: User, active: bool, actor: User) -> None:
    if user.id == actor.id and not active:
        raise OrgError("不能停用自己的账号")
    user.active = active
    if not active:
        end_sessions(user)
    session.flush()


def reset_password(session, user: User, password=None) -> str:
    """Set a new password (generated when empty) that must be changed at next login;
    the person's open login sessions end."""
    password = clean_password(password) if password else generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions(user)
    session.flush()
    return password


# --- AB backups -----------------------------------------------------------
#
# A B角 sees and does the A角's work (full ID numbers included), so who may be named
# is limited. When the person names their own B角 (请假 at /account/leave), it must be
# a colleague: an active user holding a post in one of the A角's departments, a
# section of one, or the department a section belongs to (``colleague_departments``).
# An administrator (/org/backups) may name anyone, but within the county of the A角's
# posts (``county_regions``): the B角 must hold a post in that region subtree. An A角
# without any post has no county; the administrator's choice then stands unchecked.


def colleague_departments(session, user: User) -> set[int]:
    """Ids of the departments of ``user``'s posts, their sections and their parents."""
    own = {post.department_id for post in user.posts}
    parents = {post.department.parent_id for post in user.posts if post.department.parent_id}
    children = session.scalars(select(Department.id).where(Department.parent_id.in_(own)))
    return own | parents | set(children)


def county_regions(session, user: User) -> set[int]:
    """Ids of the regions in the county (or, above county level, the region itself) of
    each of ``user``'s posts."""
    ids: set[int] = set()
    for post in user.posts:
        region = post.department.region
        root = ancestor_at_level(session, region, "county") or region
        ids.update(region_subtree_ids(session, root))
    return ids


def check_backup_colleague(session, holder: User, backup: User) -> None:
    """Self-service 请假: the B角 must work in the A角's department (see above)."""
    allowed = colleague_departments(session, holder)
    if not any(post.department_id in allowed for post in backup.posts):
        raise OrgError(
            f"{backup.display_name}（{backup.username}）不在您的部门（含股室、上级部门）任职，"
            "不能担任您的 B角",
            "backup",
        )


def check_backup_county(session, holder: User, backup: User) -> None:
    """Administrators' AB角: the B角 must hold a post in the A角's county (see above)."""
    if not holder.posts:
        return
    regions = county_regions(session, holder)
    if not any(post.department.region_id in regions for post in backup.posts):
        raise OrgError(
            f"{backup.display_name}（{backup.username}）不在 A角所在的县（区）任职，不能担任 B角",
            "backup",
        )


def create_backup(
    session,
    *,
    holder: User,
    backup: User,
    department: Department | None = None,
    process_id: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    reason: str | None = None,
    created_by: str | None = None,
) -> Backup:
    """B角 ``backup`` receives ``holder``'s work (optionally of one department or process);
    ``backup`` must be active and work in the holder's county (``check_backup_county``)."""
    if holder.id == backup.id:
        raise OrgError("B角不能是 A角本人", "backup")
    if not backup.active:
        raise OrgError(f"用户 {backup.username} 已停用，不能担任 B角", "backup")
    check_backup_county(session, holder, backup)
    valid_from = valid_from or utcnow()
    if valid_to is not None and valid_to <= valid_from:
        raise OrgError("结束时间应晚于开始时间", "valid_to")
    entry = Backup(
        holder_id=holder.id,
        backup_id=backup.id,
        department_id=department.id if department else None,
        process_id=_text(process_id, "process_id", "流程 ID", 255, required=False) or None,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=_text(reason, "reason", "事由", 500, required=False) or None,
        created_by=created_by,
    )
    session.add(entry)
    session.flush()
    return entry


def start_leave(
    session, holder: User, backup: User, until: datetime | None, reason, created_by=None
) -> Backup:
    """请假: from now until ``until`` (open-ended when None), ``backup`` does all of A's work."""
    return create_backup(
        session, holder=holder, backup=backup, valid_to=until, reason=reason, created_by=created_by
    )


def take_own_leave(session, holder: User, backup: User, until: datetime | None, reason) -> Backup:
    """请假 asked by the person themselves: the B角 must be a colleague
    (``check_backup_colleague``), not just anyone in the county."""
    if holder.id != backup.id:
        check_backup_colleague(session, holder, backup)
    return start_leave(session, holder, backup, until, reason, created_by=holder.username)


def end_backup(session, entry: Backup, at: datetime | None = None) -> None:
    """End a backup now; one that has not started yet is cancelled (it never takes force)."""
    at = at or utcnow()
    if entry.valid_to is not None and entry.valid_to <= at:
        raise OrgError("该 AB角设置已经结束")
    entry.valid_to = max(at, entry.valid_from)
    session.flush()


def end_leave(session, holder: User, at: datetime | None = None) -> int:
    """销假: end the holder's backups in force now; leaves planned for later stay.

    Returns how many were ended.
    """
    at = at or utcnow()
    running = session.scalars(
        select(Backup).where(
            Backup.holder_id == holder.id,
            Backup.valid_from <= at,
            (Backup.valid_to.is_(None)) | (Backup.valid_to > at),
        )
    ).all()
    for entry in running:
        entry.valid_to = at
    session.flush()
    return len(running)


# --- assignment rules -----------------------------------------------------


def rule_defaults() -> dict[str, str]:
    """The choices of a process without saved rules (the model's column defaults)."""
    return {name: AssignmentRules.__table__.c[name].default.arg for name in RULE_OPTIONS}


def rules_for(session, process_id: str) -> AssignmentRules:
    """The saved rules of a process, or an unsaved one holding the defaults."""
    rules = session.get(AssignmentRules, process_id)
    if rules is None:
        rules = AssignmentRules(process_id=process_id, **rule_defaults())
    return rules


def save_rules(session, process_id, **choices: str) -> AssignmentRules:
    process_id = _text(process_id, "process_id", "流程 ID", 255)
    for name, value in choices.items():
        if value not in RULE_OPTIONS[name]:
            raise OrgError(f"{RULE_QUESTIONS[name]}的处理方式无效", name)
    rules = session.get(AssignmentRules, process_id)
    if rules is None:
        rules = AssignmentRules(process_id=process_id)
        session.add(rules)
    for name, value in choices.items():
        setattr(rules, name, value)
    session.flush()
    return rules
