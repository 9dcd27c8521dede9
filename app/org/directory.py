"""Finding people and places the way a clerk thinks of them, for the searching pickers.

A person is found by name, by the pinyin of the name (its initials, "zs" for 张三, or
its spelling, "zhangsan"), by department or by username; the username is only the
value a form submits. A county has hundreds of staff, not millions: the people in
the caller's jurisdiction are read in one query and matched here, so no pinyin
column (and no migration) is needed. Places are labelled by their whole path from
the county down (青山县 / 城关镇 / 东关村) and listed in the order of their official
codes, which is the tree's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, product

from pypinyin import Style, lazy_pinyin, pinyin
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from app import policy
from app.models.auth import User
from app.models.org import Department, Post, Region, user_post

from .services import path_ids

PEOPLE_LIMIT = 20
QUERY_MAX_CHARS = 40
# a name of rare characters may read many ways; its first few readings are plenty
READINGS_MAX = 8
# who sees the whole directory; everyone else sees the people of their own county
DIRECTORY_CAPABILITIES = ("org.manage", "instances.manage")
WIDENED_LEVELS = ("township", "village")
PATH_TOP_LEVEL = "county"
PATH_SEPARATOR = " / "


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    departments: tuple[str, ...]


@lru_cache(maxsize=4096)
def spellings(name: str) -> tuple[tuple[str, ...], str]:
    """A name's pinyin initials in each of its readings, and its usual spelling (lower case)."""
    letters = pinyin(name, style=Style.FIRST_LETTER, heteronym=True)
    readings = ("".join(choice).lower() for choice in product(*letters))
    initials = tuple(dict.fromkeys(islice(readings, READINGS_MAX)))
    return initials, "".join(lazy_pinyin(name)).lower()


def _rank(person: Person, text: str) -> int | None:
    """How well ``text`` (lower case) names the person: lower is better, None is no match."""
    name = person.name.lower()
    initials, spelled = spellings(person.name)
    if name.startswith(text):
        return 0
    if any(i.startswith(text) for i in initials) or spelled.startswith(text):
        return 1
    if text in name:
        return 2
    if person.username.lower().startswith(text):
        return 3
    if any(text in d.lower() for d in person.departments):
        return 4
    return None


def jurisdiction_roots(session, user: User) -> list[Region] | None:
    """The regions whose people ``user`` may find: None for the whole directory.

    A post in a township or village widens to its county: a village window hands work
    to township and county colleagues.
    """
    if any(policy.has(user, c) for c in DIRECTORY_CAPABILITIES):
        return None
    home = policy.home_regions(session, user, tuple(policy.ROLE_CAPABILITIES))
    wanted = {i for r in home if r.level in WIDENED_LEVELS for i in path_ids(r)}
    counties = {
        r.id: r
        for r in session.scalars(
            select(Region).where(Region.id.in_(wanted), Region.level == PATH_TOP_LEVEL)
        )
    }
    roots = {}
    for region in home:
        county = next((counties[i] for i in path_ids(region) if i in counties), None)
        root = county if region.level in WIDENED_LEVELS and county else region
        roots[root.id] = root
    return list(roots.values())


def _people_in(session, roots: list[Region] | None) -> list[Person]:
    parent = aliased(Department)
    stmt = (
        select(User.username, User.display_name, Department.name, parent.name)
        .outerjoin(user_post, user_post.c.user_id == User.id)
        .outerjoin(Post, Post.id == user_post.c.post_id)
        .outerjoin(Department, Department.id == Post.department_id)
        .outerjoin(parent, parent.id == Department.parent_id)
        .where(User.active.is_(True))
        .order_by(User.id, Department.code)
    )
    if roots is not None:
        within = select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in roots]))
        stmt = stmt.where(Department.region_id.in_(within))
    found: dict[str, tuple[str, dict[str, None]]] = {}
    for username, name, department, parent_name in session.execute(stmt):
        _name, departments = found.setdefault(username, (name, {}))
        if department:
            departments[PATH_SEPARATOR.join(filter(None, (parent_name, department)))] = None
    return [Person(u, name, tuple(d)) for u, (name, d) in found.items()]


def find_people(session, user: User, text: str, limit: int = PEOPLE_LIMIT) -> list[Person]:
    """Active people in ``user``'s jurisdiction that ``text`` names, best matches first."""
    text = text.strip().lower()[:QUERY_MAX_CHARS]
    roots = jurisdiction_roots(session, user)
    if not text or roots == []:
        return []
    ranked = [
        (rank, spellings(p.name)[1], p)
        for p in _people_in(session, roots)
        if (rank := _rank(p, text)) is not None
    ]
    ranked.sort(key=lambda found: found[:2])
    return [p for _rank_, _spelled, p in ranked[:limit]]


@dataclass(frozen=True)
class Place:
    region: Region
    label: str
    pinyin: str  # what a picker also searches: "qsx cgz dgc qingshanxian chengguanzhen …"


def _pinyin_of(label: str) -> str:
    names = label.split(PATH_SEPARATOR)
    return " ".join(
        [spellings(n)[0][0] for n in names if spellings(n)[0]] + [spellings(n)[1] for n in names]
    )


def place_labels(session, regions: list[Region]) -> list[Place]:
    """Regions in the order of their codes (the tree's), each labelled by its path from
    the county down: 青山县 / 城关镇 / 东关村."""
    ids = {i for r in regions for i in path_ids(r)}
    above = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}

    def label(region: Region) -> str:
        path = [above.get(i, region) for i in path_ids(region)] or [region]
        start = next((n for n, r in enumerate(path) if r.level == PATH_TOP_LEVEL), len(path) - 1)
        return PATH_SEPARATOR.join(r.name for r in path[start:])

    labelled = [(r, label(r)) for r in sorted(regions, key=lambda r: r.code)]
    return [Place(r, text, _pinyin_of(text)) for r, text in labelled]
