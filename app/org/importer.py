"""Bulk import of regions, departments, posts and users from rows of a table.

One row per thing; ``kind`` says which:

- ``region``: code, name, level, parent_code
- ``department``: code, name, region_code (a section: parent_code = its department)
- ``post``: department_code, role
- ``user``: username, display_name, phone, department_code, role, password
  (one row per post a user holds; the role as key or Chinese name)

The import is idempotent (a row whose code or username exists updates names and
adds what is missing) and all-or-nothing: the first bad row raises
``ImportRowError`` naming the row and column, and the caller rolls back. It must
load a county (hundreds of villages and users) in seconds, so it reads what
exists with a few ``IN`` queries, writes with bulk inserts, and hashes each
distinct password once (argon2 is deliberately slow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import aliased

from app.auth.services import hash_password
from app.models.auth import User
from app.models.org import LEVELS, Department, Post, Region, user_post

from .services import (
    OrgError,
    check_level_under,
    clean_department,
    clean_display_name,
    clean_password,
    clean_phone,
    clean_region,
    clean_username,
    generate_password,
    parse_level,
    parse_role,
    region_path,
)
from .spreadsheet import Row

KINDS = {
    "region": "region",
    "区划": "region",
    "department": "department",
    "部门": "department",
    "post": "post",
    "岗位": "post",
    "user": "user",
    "用户": "user",
}
CHUNK = 500  # values per IN (...) query, below every database's parameter limit


class ImportRowError(OrgError):
    """A bad row; the whole import is refused."""

    def __init__(self, row: int, column: str | None, message: str):
        where = f"第 {row} 行" + (f"（列 {column}）" if column else "")
        super().__init__(f"{where}：{message}", column)
        self.row = row
        self.column = column


@dataclass
class ImportResult:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    generated_passwords: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Region:
    id: int | None
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str | None = None
    row: Row | None = None


@dataclass
class _Department:
    id: int | None
    code: str
    name: str
    region_code: str
    parent_code: str | None
    row: Row | None = None


@dataclass
class _Person:
    username: str
    row: Row
    display_name: str = ""
    phone: str = ""
    password: str = ""
    posts: list[tuple[str, str, Row]] = field(default_factory=list)


@contextmanager
def at(row: Row) -> Iterator[None]:
    """Turn an OrgError raised while reading ``row`` into an error naming the row."""
    try:
        yield
    except ImportRowError:
        raise
    except OrgError as exc:
        raise ImportRowError(row.number, exc.field, exc.message) from None


def _chunks(values) -> Iterator[list]:
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def import_rows(session, rows: list[Row], *, must_change_password: bool = True) -> ImportResult:
    """Import the rows in the session's transaction; the caller commits or rolls back."""
    by_kind: dict[str, list[Row]] = {kind: [] for kind in set(KINDS.values())}
    for row in rows:
        kind = KINDS.get(row["kind"].lower())
        if kind is None:
            raise ImportRowError(
                row.number,
                "kind",
                f"类型“{row['kind']}”无效，应为 region、department、post 或 user",
            )
        by_kind[kind].append(row)
    job = _Import(session, must_change_password)
    job.regions(by_kind["region"])
    job.departments(by_kind["department"])
    job.posts(by_kind["post"])
    job.users(by_kind["user"])
    return job.result


class _Import:
    """One import run: what exists, by code, and what was written."""

    def __init__(self, session, must_change_password: bool):
        self.session = session
        self.must_change_password = must_change_password
        self.result = ImportResult()
        self.region_by_code: dict[str, _Region] = {}
        self.dept_by_code: dict[str, _Department] = {}
        self.post_ids: dict[tuple[int, str], int] = {}

    # --- loading what exists --------------------------------------------

    def load_regions(self, codes) -> None:
        """Read the existing regions among ``codes`` (with their parent's code)."""
        parent = aliased(Region)
        stmt = select(
            Region.id, Region.code, Region.name, Region.level, Region.path, parent.code
        ).outerjoin(parent, parent.id == Region.parent_id)
        for chunk in _chunks(set(codes) - set(self.region_by_code)):
            for r_id, code, name, level, path, parent_code in self.session.execute(
                stmt.where(Region.code.in_(chunk))
            ):
                self.region_by_code[code] = _Region(r_id, code, name, level, parent_code, path)

    def load_departments(self, codes) -> None:
        """Read the existing departments among ``codes`` (with region and parent codes)."""
        parent = aliased(Department)
        stmt = (
            select(Department.id, Department.code, Department.name, Region.code, parent.code)
            .join(Region, Region.id == Department.region_id)
            .outerjoin(parent, parent.id == Department.parent_id)
        )
        for chunk in _chunks(set(codes) - set(self.dept_by_code)):
            for d_id, code, name, region_code, parent_code in self.session.execute(
                stmt.where(Department.code.in_(chunk))
            ):
                self.dept_by_code[code] = _Department(d_id, code, name, region_code, parent_code)

    def _sibling_names(self, region_ids) -> set[tuple[int, int | None, str]]:
        """(region, parent, name) of the departments already in these regions."""
        names = set()
        for chunk in _chunks(region_ids):
            stmt = select(Department.region_id, Department.parent_id, Department.name).where(
                Department.region_id.in_(chunk)
            )
            names.update(tuple(r) for r in self.session.execute(stmt))
        return names

    # --- regions ----------------------------------------------------------

    def regions(self, rows: list[Row]) -> None:
        parsed = self._parse_regions(rows)
        self.load_regions({*parsed, *(r.parent_code for r in parsed.values() if r.parent_code)})
        renamed = []
        for item in sorted(parsed.values(), key=lambda r: (LEVELS.index(r.level), r.row.number)):
            with at(item.row):
                parent = self._region_parent(item, parsed)
                check_level_under(item.level, parent)
                existing = self.region_by_code.get(item.code)
                if existing is not None:
                    self._check_same_place(item, existing)
                    if existing.name != item.name:
                        renamed.append({"id": existing.id, "name": item.name})
        self._insert_regions([r for r in parsed.values() if r.code not in self.region_by_code])
        if renamed:
            self.session.execute(update(Region), renamed)
        self.result.updated["region"] += len(renamed)

    def _parse_regions(self, rows: list[Row]) -> dict[str, _Region]:
        parsed: dict[str, _Region] = {}
        for row in rows:
            with at(row):
                code, name = clean_region(row["code"], row["name"])
                if code in parsed:
                    raise OrgError(
                        f"区划代码 {code} 在第 {parsed[code].row.number} 行已出现", "code"
                    )
                parent_code = row["parent_code"] or None
                parsed[code] = _Region(
                    None, code, name, parse_level(row["level"]), parent_code, row=row
                )
        return parsed

    def _region_parent(self, item: _Region, parsed: dict[str, _Region]) -> _Region | None:
        if item.parent_code is None:
            return None
        parent = parsed.get(item.parent_code) or self.region_by_code.get(item.parent_code)
        if parent is None:
            raise OrgError(f"找不到上级区划代码 {item.parent_code}", "parent_code")
        return parent

    @staticmethod
    def _check_same_place(item: _Region, existing: _Region) -> None:
        if existing.level != item.level:
            raise OrgError(f"区划 {item.code} 已存在且层级不同；请在管理页面中修改", "level")
        if item.parent_code and existing.parent_code != item.parent_code:
            raise OrgError(
                f"区划 {item.code} 已存在，上级区划是 {existing.parent_code or '（无）'}；"
                "如需移动请在管理页面中操作",
                "parent_code",
            )

    def _insert_regions(self, new: list[_Region]) -> None:
        """Insert level by level: a region's path needs its parent's id and path."""
        for level in LEVELS:
            batch = [r for r in new if r.level == level]
            if not batch:
                continue
            params = [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "parent_id": self.region_by_code[r.parent_code].id if r.parent_code else None,
                    "path": "/",
                }
                for r in batch
            ]
            stmt = insert(Region).returning(Region.code, Region.id)
            ids = dict(self.session.execute(stmt, params).all())
            paths = []
            for r in batch:
                parent = self.region_by_code.get(r.parent_code) if r.parent_code else None
                r.id, r.path = (
                    ids[r.code],
                    region_path(parent.path if parent else None, ids[r.code]),
                )
                self.region_by_code[r.code] = r
                paths.append({"id": r.id, "path": r.path})
            self.session.execute(update(Region), paths)
        self.result.created["region"] += len(new)

    # --- departments --------------------------------------------------------

    def departments(self, rows: list[Row]) -> None:
        parsed = self._parse_departments(rows)
        self.load_departments({*parsed, *(d.parent_code for d in parsed.values() if d.parent_code)})
        for item in parsed.values():
            with at(item.row):
                self._place_department(item, parsed)
        self.load_regions({d.region_code for d in parsed.values()})
        known = [self.region_by_code.get(d.region_code) for d in parsed.values()]
        taken = self._sibling_names({r.id for r in known if r is not None})
        renamed = []
        for item in parsed.values():
            with at(item.row):
                renamed += self._check_department(item, taken)
        for sections in (False, True):
            batch = [
                d
                for d in parsed.values()
                if d.code not in self.dept_by_code and bool(d.parent_code) == sections
            ]
            self._insert_departments(batch)
        if renamed:
            self.session.execute(update(Department), renamed)
        self.result.updated["department"] += len(renamed)

    def _parse_departments(self, rows: list[Row]) -> dict[str, _Department]:
        parsed: dict[str, _Department] = {}
        for row in rows:
            with at(row):
                code, name = clean_department(row["code"], row["name"])
                if code in parsed:
                    raise OrgError(
                        f"部门代码 {code} 在第 {parsed[code].row.number} 行已出现", "code"
                    )
                if not row["region_code"] and not row["parent_code"]:
                    raise OrgError(
                        "请填写所属区划代码（股室请填上级部门代码 parent_code）", "region_code"
                    )
                parent_code = row["parent_code"] or None
                parsed[code] = _Department(None, code, name, row["region_code"], parent_code, row)
        return parsed

    def _place_department(self, item: _Department, parsed: dict[str, _Department]) -> None:
        """Resolve a section's department; a section lies in its department's region."""
        if item.parent_code is None:
            return
        parent = parsed.get(item.parent_code) or self.dept_by_code.get(item.parent_code)
        if parent is None:
            raise OrgError(f"找不到上级部门代码 {item.parent_code}", "parent_code")
        if parent.parent_code:
            raise OrgError(f"{parent.code} 本身是股室，股室下不能再设股室", "parent_code")
        if parent.region_code and item.region_code and item.region_code != parent.region_code:
            raise OrgError(f"股室的区划应与上级部门相同（{parent.region_code}）", "region_code")
        item.region_code = parent.region_code or item.region_code

    def _check_department(self, item: _Department, taken: set) -> list[dict]:
        """Validate one department row; returns the rename to apply, if any."""
        region = self.region_by_code.get(item.region_code)
        if region is None:
            raise OrgError(f"找不到区划代码 {item.region_code}", "region_code")
        existing = self.dept_by_code.get(item.code)
        if existing is not None and (
            existing.region_code != item.region_code or existing.parent_code != item.parent_code
        ):
            raise OrgError(
                f"部门 {item.code} 已存在于别的区划或上级部门下；如需调整请在管理页面中操作",
                "parent_code" if item.parent_code else "region_code",
            )
        if existing is not None and existing.name == item.name:
            return []
        parent = self.dept_by_code.get(item.parent_code) if item.parent_code else None
        # a department new in this file has no id yet: its code stands in for it
        key = (region.id, parent.id if parent else item.parent_code, item.name)
        if key in taken:
            raise OrgError(
                f"同一{'部门' if item.parent_code else '区划'}下已有“{item.name}”", "name"
            )
        taken.add(key)
        return [{"id": existing.id, "name": item.name}] if existing else []

    def _insert_departments(self, batch: list[_Department]) -> None:
        if not batch:
            return
        params = [
            {
                "code": d.code,
                "name": d.name,
                "region_id": self.region_by_code[d.region_code].id,
                "parent_id": self.dept_by_code[d.parent_code].id if d.parent_code else None,
            }
            for d in batch
        ]
        stmt = insert(Department).returning(Department.code, Department.id)
        ids = dict(self.session.execute(stmt, params).all())
        for d in batch:
            d.id = ids[d.code]
            self.dept_by_code[d.code] = d
        self.result.created["department"] += len(batch)

    # --- posts ----------------------------------------------------------------

    def posts(self, rows: list[Row]) -> None:
        wanted = []
        for row in rows:
            with at(row):
                wanted.append((row["department_code"], self._role(row), row))
        self.ensure_posts(wanted)

    @staticmethod
    def _role(row: Row) -> str:
        if not row["department_code"]:
            raise OrgError("请填写部门代码", "department_code")
        return parse_role(row["role"])

    def ensure_posts(self, wanted: list[tuple[str, str, Row]]) -> None:
        """Create the posts (department code, role) that do not exist yet."""
        self.load_departments({code for code, _role, _row in wanted})
        for code, _role, row in wanted:
            if code not in self.dept_by_code:
                raise ImportRowError(row.number, "department_code", f"找不到部门代码 {code}")
        dept_ids = {self.dept_by_code[code].id for code, _role, _row in wanted}
        for chunk in _chunks(dept_ids - {d for d, _r in self.post_ids}):
            stmt = select(Post.department_id, Post.role, Post.id).where(
                Post.department_id.in_(chunk)
            )
            for dept_id, role, post_id in self.session.execute(stmt):
                self.post_ids[(dept_id, role)] = post_id
        missing = {(self.dept_by_code[c].id, role) for c, role, _row in wanted} - set(self.post_ids)
        if missing:
            params = [{"department_id": d, "role": role} for d, role in sorted(missing)]
            stmt = insert(Post).returning(Post.department_id, Post.role, Post.id)
            for dept_id, role, post_id in self.session.execute(stmt, params):
                self.post_ids[(dept_id, role)] = post_id
        self.result.created["post"] += len(missing)

    def post_id(self, department_code: str, role: str) -> int:
        return self.post_ids[(self.dept_by_code[department_code].id, role)]

    # --- users ----------------------------------------------------------------

    def users(self, rows: list[Row]) -> None:
        people = self._parse_people(rows)
        self.ensure_posts([p for person in people.values() for p in person.posts])
        existing = {}
        for chunk in _chunks(people):
            stmt = select(User.username, User.id, User.display_name, User.phone)
            existing.update(
                {u.username: u for u in self.session.execute(stmt.where(User.username.in_(chunk)))}
            )
        self._update_people([p for p in people.values() if p.username in existing], existing)
        new = [p for p in people.values() if p.username not in existing]
        ids = {u.username: u.id for u in existing.values()} | self._insert_people(new)
        self._assign(people.values(), ids)

    def _parse_people(self, rows: list[Row]) -> dict[str, _Person]:
        people: dict[str, _Person] = {}
        for row in rows:
            with at(row):
                username = clean_username(row["username"])
                person = people.setdefault(username, _Person(username, row))
                _merge(person, "display_name", clean_display_name(row["display_name"], False))
                _merge(person, "phone", clean_phone(row["phone"]) or "")
                _merge(person, "password", row["password"] and clean_password(row["password"]))
                if row["department_code"] or row["role"]:
                    person.posts.append((row["department_code"], self._role(row), row))
        return people

    def _update_people(self, people: list[_Person], existing: dict) -> None:
        changes = []
        for person in people:
            current = existing[person.username]
            name = person.display_name or current.display_name
            phone = person.phone or current.phone
            if (name, phone) != (current.display_name, current.phone):
                changes.append({"id": current.id, "display_name": name, "phone": phone})
        if changes:
            self.session.execute(update(User), changes)
        self.result.updated["user"] += len(changes)

    def _insert_people(self, people: list[_Person]) -> dict[str, int]:
        for person in people:
            if not person.display_name:
                raise ImportRowError(person.row.number, "display_name", "新用户请填写姓名")
            if not person.password:
                person.password = generate_password()
                self.result.generated_passwords.append((person.username, person.password))
        hashes = {pw: hash_password(pw) for pw in {p.password for p in people}}
        params = [
            {
                "username": p.username,
                "display_name": p.display_name,
                "phone": p.phone or None,
                "password_hash": hashes[p.password],
                "must_change_password": self.must_change_password,
            }
            for p in people
        ]
        self.result.created["user"] += len(people)
        if not params:
            return {}
        stmt = insert(User).returning(User.username, User.id)
        return dict(self.session.execute(stmt, params).all())

    def _assign(self, people, ids: dict[str, int]) -> None:
        wanted = {
            (ids[p.username], self.post_id(code, role))
            for p in people
            for code, role, _r in p.posts
        }
        held = set()
        for chunk in _chunks({user_id for user_id, _post in wanted}):
            stmt = select(user_post.c.user_id, user_post.c.post_id).where(
                user_post.c.user_id.in_(chunk)
            )
            held.update(tuple(r) for r in self.session.execute(stmt))
        missing = sorted(wanted - held)
        if missing:
            self.session.execute(
                insert(user_post), [{"user_id": u, "post_id": p} for u, p in missing]
            )
        self.result.created["user_post"] += len(missing)


def _merge(person: _Person, attribute: str, value: str) -> None:
    """Fill a user's value from one of the user's rows; rows must not disagree."""
    if not value:
        return
    current = getattr(person, attribute)
    if current and current != value:
        raise OrgError(
            f"用户 {person.username} 在第 {person.row.number} 行的值与此行不同", attribute
        )
    setattr(person, attribute, value)
