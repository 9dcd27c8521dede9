"""A small real county for routing and permission tests, built with the org models.

城关镇 (t1) with villages 东关村 (v11) and 西关村 (v12); 河口镇 (t2) with 河口村 (v21).
Every post has one holder named ``<unit>_<role>``; the password of all is ``pw-<username>``.
``build_neighbour`` adds 白水县, a second county of the same city, whose users are
"someone of another county" for every test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.auth.services import create_user, hash_password
from app.models.auth import User
from app.models.org import Department, Post, Region

PASSWORD_HASHES: dict[str, str] = {}


@dataclass
class County:
    regions: dict[str, Region] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def code(self, key: str) -> str:
        return self.regions[key].code


REGIONS = [
    ("province", "中原省", "province", "490000000000", None),
    ("city", "平安市", "city", "490100000000", "province"),
    ("county", "青山县", "county", "490102000000", "city"),
    ("t1", "城关镇", "township", "490102100000", "county"),
    ("v11", "东关村", "village", "490102100201", "t1"),
    ("v12", "西关村", "village", "490102100202", "t1"),
    ("t2", "河口镇", "township", "490102101000", "county"),
    ("v21", "河口村", "village", "490102101201", "t2"),
]
LEADERS = ("handler", "reviewer", "deputy_leader", "chief_leader")
# key, name, region, parent department, roles
DEPARTMENTS = [
    ("center", "青山县政务服务中心", "county", None, ("window_clerk", "inspector")),
    ("scj", "青山县市场监督管理局", "county", None, LEADERS),
    ("scj_spg", "审批股", "county", "scj", ("handler", "reviewer")),
    ("fire", "青山县消防救援大队", "county", None, LEADERS),
    ("env", "青山县生态环境分局", "county", None, LEADERS),
    ("health", "青山县卫生健康委员会", "county", None, LEADERS),
    ("zrzy", "青山县自然资源局", "county", None, ("deputy_leader", "chief_leader")),
    ("zrzy_kc", "矿产资源股", "county", "zrzy", ("handler", "reviewer")),
    ("bigdata", "青山县大数据中心", "county", None, ("designer", "admin")),
    ("city_zrzy", "平安市自然资源和规划局", "city", None, ("deputy_leader", "chief_leader")),
    ("city_zrzy_kc", "矿产资源管理科", "city", "city_zrzy", ("handler", "reviewer")),
    ("city_jw", "平安市纪委监委派驻纪检组", "city", None, ("inspector",)),
    ("t1", "城关镇便民服务中心", "t1", None, ("window_clerk", *LEADERS)),
    ("t2", "河口镇便民服务中心", "t2", None, ("window_clerk", *LEADERS)),
    ("v11", "东关村代办点", "v11", None, ("window_clerk",)),
    ("v12", "西关村代办点", "v12", None, ("window_clerk",)),
    ("v21", "河口村代办点", "v21", None, ("window_clerk",)),
]


def _hash(password: str) -> str:
    if password not in PASSWORD_HASHES:
        PASSWORD_HASHES[password] = hash_password(password)
    return PASSWORD_HASHES[password]


NEIGHBOUR_REGIONS = [
    ("bs_county", "白水县", "county", "490103000000", "city"),
    ("bs_t1", "白水镇", "township", "490103100000", "bs_county"),
]
NEIGHBOUR_DEPARTMENTS = [
    ("bs_center", "白水县政务服务中心", "bs_county", None, ("window_clerk", "inspector")),
    ("bs_scj", "白水县市场监督管理局", "bs_county", None, LEADERS),
    ("bs_bigdata", "白水县大数据中心", "bs_county", None, ("designer", "admin")),
    ("bs_t1", "白水镇便民服务中心", "bs_t1", None, ("window_clerk",)),
]


def build_county(session) -> County:
    """Insert the county and commit; returns handles by key."""
    return _build(session, County(), REGIONS, DEPARTMENTS, {})


def build_neighbour(session, county: County) -> County:
    """Insert 白水县 (under ``county``'s city) and commit; returns its handles by key."""
    return _build(session, County(), NEIGHBOUR_REGIONS, NEIGHBOUR_DEPARTMENTS, county.regions)


def _build(session, county: County, regions, departments, outside: dict) -> County:
    for key, name, level, code, parent_key in regions:
        parent = county.regions.get(parent_key) or outside.get(parent_key)
        region = Region(code=code, name=name, level=level, parent=parent)
        session.add(region)
        session.flush()
        region.path = (parent.path if parent else "/") + f"{region.id}/"
        county.regions[key] = region
    for key, name, region, parent, roles in departments:
        department = Department(
            code=f"D-{key}",
            name=name,
            region=county.regions[region],
            parent=county.departments.get(parent),
        )
        session.add(department)
        county.departments[key] = department
        for role in roles:
            username = f"{key}_{role}"
            user = User(
                username=username,
                display_name=f"{name}{role}",
                password_hash=_hash(f"pw-{username}"),
            )
            post = Post(department=department, role=role)
            user.posts.append(post)
            session.add_all([post, user])
            county.users[username] = user
    session.commit()
    return county


def neighbour_county_user(session, username: str, role: str) -> User:
    """A holder of ``role`` at the center of 白石县, the demo county's neighbour in 平安市."""
    city = session.scalars(select(Region).where(Region.code == "490100000000")).one()
    other = Region(code="490103000000", name="白石县", level="county", parent=city)
    session.add(other)
    session.flush()
    other.path = f"{city.path}{other.id}/"
    office = Department(code="BS-center", name="白石县政务服务中心", region=other)
    session.add(office)
    session.flush()
    post = Post(department_id=office.id, role=role)
    session.add(post)
    user = create_user(session, username, f"pw-{username}")
    post.holders.append(user)
    session.commit()
    return user
