"""The demo county 青山县 (fictional), as import rows: regions, departments, posts, users.

Region tree: 中原省 490000000000 → 平安市 490100000000 → 青山县 490102000000 →
22 townships 490102100000 … 490102121000 (3 街道, 11 镇, 8 乡) → 417 villages and
communities (18–20 per township; codes 001… for 社区, 201… for 村).

Every post has one demo user; usernames are ``<unit>_<role>``:

- county departments: ``center`` 青山县政务服务中心, ``scj`` 市场监督管理局, ``xf`` 消防救援大队,
  ``sthj`` 生态环境分局, ``wjw`` 卫生健康委员会, ``zrzy`` 自然资源局, ``ly`` 林业局,
  ``zjj`` 住房和城乡建设局 — each ``_handler``, ``_reviewer``, ``_deputy``, ``_chief``
  (e.g. ``scj_reviewer``);
- sections: ``scj_djzc`` 登记注册股, ``scj_spg`` 审批股, ``zrzy_kc`` 矿产资源股,
  ``city_zrzy_kc`` 市矿产资源管理科 — ``_handler``, ``_reviewer`` (e.g. ``scj_spg_handler``);
- ``center_clerk`` (综合受理窗口), ``center_inspector`` (中心管理办), ``jw_inspector``
  (纪检组), ``bigdata_designer`` and ``bigdata_admin`` (大数据中心);
- city: ``city_zrzy_*`` 市自然资源和规划局, ``city_center_*`` 市政务服务中心 and
  ``city_center_clerk``;
- townships ``t01``…``t22`` (便民服务中心): ``t01_clerk``, ``t01_handler``,
  ``t01_reviewer``, ``t01_deputy``, ``t01_chief``;
- villages ``v0101``…``v2218`` (代办点, township number + village number):
  ``v0101_clerk``.

Everything is deterministic: the same rows on every run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PROVINCE = ("490000000000", "中原省")
CITY = ("490100000000", "平安市")
COUNTY = ("490102000000", "青山县")
DEFAULT_PASSWORD = "demo12345"

TOWNSHIPS = (
    "城关街道", "东城街道", "南湖街道", "青石镇", "柳河镇", "白沙镇", "桃源镇", "金山镇",
    "龙泉镇", "双河镇", "杏花镇", "松林镇", "石桥镇", "马坊镇", "枫岭乡", "梨园乡",
    "云台乡", "鹿鸣乡", "清水乡", "凤凰乡", "茶山乡", "黄土岭乡",
)  # fmt: skip
# Village names pair a first and a second character; the list lengths are coprime,
# so any 323 consecutive pairs differ and no township repeats a name.
VILLAGE_FIRST = "东西南北上下前后中大小新老高杨李王张赵"
VILLAGE_SECOND = "河湾岭坪庄沟岗坝桥林园塘堡营店寨湖"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "红梅", "志强", "海燕",
    "晓东", "春花",
)  # fmt: skip

ROLE_SHORT = {
    "window_clerk": "clerk",
    "handler": "handler",
    "reviewer": "reviewer",
    "deputy_leader": "deputy",
    "chief_leader": "chief",
    "inspector": "inspector",
    "designer": "designer",
    "admin": "admin",
}
LEADERSHIP = ("handler", "reviewer", "deputy_leader", "chief_leader")
SECTION_ROLES = ("handler", "reviewer")
TOWNSHIP_ROLES = ("window_clerk", *LEADERSHIP)


@dataclass(frozen=True)
class Unit:
    """A department or section of the demo, its posts and its usernames' prefix."""

    code: str
    name: str
    roles: tuple[str, ...]
    sections: tuple[Unit, ...] = ()
    login: str | None = None

    @property
    def prefix(self) -> str:
        return self.login or self.code


COUNTY_UNITS = (
    Unit(
        "center",
        "青山县政务服务中心",
        LEADERSHIP,
        (
            Unit("center_window", "综合受理窗口", ("window_clerk",), login="center"),
            Unit("center_office", "中心管理办", ("inspector",), login="center"),
        ),
    ),
    Unit(
        "scj",
        "县市场监督管理局",
        LEADERSHIP,
        (Unit("scj_djzc", "登记注册股", SECTION_ROLES), Unit("scj_spg", "审批股", SECTION_ROLES)),
    ),
    Unit("xf", "县消防救援大队", LEADERSHIP),
    Unit("sthj", "县生态环境分局", LEADERSHIP),
    Unit("wjw", "县卫生健康委员会", LEADERSHIP),
    Unit("zrzy", "县自然资源局", LEADERSHIP, (Unit("zrzy_kc", "矿产资源股", SECTION_ROLES),)),
    Unit("ly", "县林业局", LEADERSHIP),
    Unit("zjj", "县住房和城乡建设局", LEADERSHIP),
    Unit("jw", "县纪委监委派驻纪检组", ("inspector",)),
    Unit("bigdata", "县大数据中心", ("designer", "admin")),
)
CITY_UNITS = (
    Unit(
        "city_zrzy",
        "平安市自然资源和规划局",
        LEADERSHIP,
        (Unit("city_zrzy_kc", "矿产资源管理科", SECTION_ROLES),),
    ),
    Unit(
        "city_center",
        "平安市政务服务中心",
        LEADERSHIP,
        (Unit("city_center_window", "综合受理窗口", ("window_clerk",), login="city_center"),),
    ),
)


def demo_password() -> str:
    return os.environ.get("YIMEN_DEMO_PASSWORD") or DEFAULT_PASSWORD


def township_code(index: int) -> str:
    """Township ``index`` (0-based): 490102100000, 490102101000, …"""
    return f"{COUNTY[0][:6]}{100 + index:03d}000"


def villages(index: int) -> list[tuple[str, str]]:
    """(code, name) of the villages and communities of township ``index``."""
    township = TOWNSHIPS[index]
    count = 18 + index % 3
    communities = count if township.endswith("街道") else 2 if township.endswith("镇") else 0
    found = []
    for j in range(count):
        k = index * 23 + j
        stem = VILLAGE_FIRST[k % len(VILLAGE_FIRST)] + VILLAGE_SECOND[k % len(VILLAGE_SECOND)]
        if j < communities:
            found.append((f"{township_code(index)[:9]}{1 + j:03d}", stem + "社区"))
        else:
            found.append((f"{township_code(index)[:9]}{201 + j - communities:03d}", stem + "村"))
    return found


class _Rows:
    """Collects the rows; numbers people so their names and phones are stable."""

    def __init__(self, password: str):
        self.password = password
        self.rows: list[dict] = []
        self.people = 0

    def region(self, code: str, name: str, level: str, parent_code: str = "") -> None:
        self.rows.append(
            {
                "kind": "region",
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent_code,
            }
        )

    def department(self, unit: Unit, region_code: str, parent: Unit | None = None) -> None:
        self.rows.append(
            {
                "kind": "department",
                "code": unit.code,
                "name": unit.name,
                "region_code": "" if parent else region_code,
                "parent_code": parent.code if parent else "",
            }
        )
        for role in unit.roles:
            self.user(f"{unit.prefix}_{ROLE_SHORT[role]}", unit.code, role)
        for section in unit.sections:
            self.department(section, region_code, unit)

    def user(self, username: str, department_code: str, role: str) -> None:
        k = self.people
        self.people += 1
        self.rows.append(
            {
                "kind": "user",
                "username": username,
                "display_name": SURNAMES[k % len(SURNAMES)] + GIVEN_NAMES[k % len(GIVEN_NAMES)],
                "phone": f"139{k + 1:08d}",
                "department_code": department_code,
                "role": role,
                "password": self.password,
            }
        )


def demo_rows(password: str | None = None) -> list[dict]:
    """The demo county's import rows (columns as in ``org import``)."""
    out = _Rows(password or demo_password())
    out.region(*PROVINCE, "province")
    out.region(*CITY, "city", PROVINCE[0])
    out.region(*COUNTY, "county", CITY[0])
    for unit in CITY_UNITS:
        out.department(unit, CITY[0])
    for unit in COUNTY_UNITS:
        out.department(unit, COUNTY[0])
    for index, township in enumerate(TOWNSHIPS):
        code, number = township_code(index), f"{index + 1:02d}"
        out.region(code, township, "township", COUNTY[0])
        out.department(Unit(f"t{number}", f"{township}便民服务中心", TOWNSHIP_ROLES), code)
        for j, (village_code, village) in enumerate(villages(index), start=1):
            out.region(village_code, village, "village", code)
            out.department(
                Unit(f"v{number}{j:02d}", f"{village}代办点", ("window_clerk",)), village_code
            )
    return out.rows
