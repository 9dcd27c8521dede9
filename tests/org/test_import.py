"""``flask --app app org import`` and ``org demo``: whole files, all or nothing."""

import time

import pytest
from sqlalchemy import func, select

from app.auth.services import check_password, find_user
from app.models.auth import User
from app.models.org import Department, Post, Region, user_post
from app.org.services import department_by_code, region_by_code
from app.org.spreadsheet import COLUMNS

HEADER = ",".join(COLUMNS)
COUNTY_CSV = f"""{HEADER}
region,490000000000,中原省,province,,,,,,,,
region,490100000000,平安市,市,490000000000,,,,,,,
region,490102000000,青山县,county,490100000000,,,,,,,
region,490102100000,城关镇,乡镇,490102000000,,,,,,,
region,490102100201,东关村,village,490102100000,,,,,,,
department,scj,县市场监督管理局,,,490102000000,,,,,,
department,scj_spg,审批股,,scj,,,,,,,
department,t01,城关镇便民服务中心,,,490102100000,,,,,,
post,,,,,,scj,chief_leader,,,,
user,,,,,,scj_spg,审核人,li_reviewer,李审核,13900000001,secret-123
user,,,,,,scj_spg,handler,zhao_handler,赵承办,,secret-123
user,,,,,,t01,window_clerk,zhao_handler,,,
user,,,,,,t01,窗口受理员,wang_clerk,王受理,,
"""


def run(app, *args, **env):
    return app.test_cli_runner().invoke(args=["org", *args], env=env or None)


def write(tmp_path, text: str, name="org.csv", bom=True):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_csv_with_bom_creates_the_tree_posts_and_users(app, session, tmp_path):
    result = run(app, "import", str(write(tmp_path, COUNTY_CSV)))
    assert result.exit_code == 0, result.output
    assert "区划 新增 5" in result.output and "部门 新增 3" in result.output
    assert "岗位 新增 4" in result.output and "用户 新增 3" in result.output
    assert "任职 新增 4" in result.output

    village = region_by_code(session, "490102100201")
    township = region_by_code(session, "490102100000")
    assert village.path == f"{township.path}{village.id}/" and village.level == "village"
    spg = department_by_code(session, "scj_spg")
    assert spg.parent.code == "scj" and spg.region.code == "490102000000"
    zhao = find_user(session, "zhao_handler")
    assert sorted(p.title for p in zhao.posts) == ["城关镇便民服务中心 窗口受理员", "审批股 承办人"]
    assert check_password(zhao, "secret-123") and zhao.must_change_password
    assert zhao.password_hash == find_user(session, "li_reviewer").password_hash  # hashed once

    # the one user without a password got a generated one, printed once
    line = next(s for s in result.output.splitlines() if s.startswith("wang_clerk"))
    assert check_password(find_user(session, "wang_clerk"), line.split()[-1])
    assert "secret-123" not in result.output


def test_xlsx_is_read_like_csv(app, session, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["region", 490102000000, "青山县", "county"])  # a code typed as a number
    sheet.append(["department", "zrzy", "县自然资源局", None, None, "490102000000"])
    sheet.append([None] * 3)
    sheet.append(["user", *[None] * 5, "zrzy", "分管领导", "zr_deputy", "周分管", "", "secret-123"])
    path = tmp_path / "org.xlsx"
    book.save(path)

    result = run(app, "import", str(path))
    assert result.exit_code == 0, result.output
    assert region_by_code(session, "490102000000").name == "青山县"
    assert [p.title for p in find_user(session, "zr_deputy").posts] == ["县自然资源局 分管领导"]


def test_reimport_updates_names_and_adds_only_what_is_missing(app, session, tmp_path):
    assert run(app, "import", str(write(tmp_path, COUNTY_CSV))).exit_code == 0
    counts = [count(session, m) for m in (Region, Department, Post, User, user_post)]
    renamed = COUNTY_CSV.replace("东关村,village", "东关社区,village").replace(
        "王受理,,", "王受理,13900000009,"
    )
    again = run(app, "import", str(write(tmp_path, renamed, bom=False)))
    assert again.exit_code == 0, again.output
    assert "区划 新增 0 / 更新 1" in again.output and "用户 新增 0 / 更新 1" in again.output
    assert "初始密码" not in again.output
    assert [count(session, m) for m in (Region, Department, Post, User, user_post)] == counts
    assert region_by_code(session, "490102100201").name == "东关社区"
    assert find_user(session, "wang_clerk").phone == "13900000009"


@pytest.mark.parametrize(
    ("bad_line", "where", "message"),
    [
        (
            "region,490102101000,河口镇,township,490102999000,,,,,,,",
            "第 15 行（列 parent_code）",
            "找不到上级区划代码",
        ),
        (
            "region,4901021010,河口镇,township,490102000000,,,,,,,",
            "第 15 行（列 code）",
            "12 位数字",
        ),
        (
            "region,490102100000,城关镇,township,490102000000,,,,,,,",
            "第 15 行（列 code）",
            "第 5 行已出现",
        ),
        (
            "department,t02,河口镇便民服务中心,,,490102101000,,,,,,",
            "第 15 行（列 region_code）",
            "找不到区划代码",
        ),
        (
            "department,x,审批股二,,scj_spg,,,,,,,",
            "第 15 行（列 parent_code）",
            "股室下不能再设股室",
        ),
        ("user,,,,,,scj,局长,boss,局长,,secret-123", "第 15 行（列 role）", "岗位“局长”无效"),
        (
            "user,,,,,,nowhere,handler,lost,迷路,,secret-123",
            "第 15 行（列 department_code）",
            "找不到部门代码",
        ),
        (
            "user,,,,,,scj,handler,nobody,,,secret-123",
            "第 15 行（列 display_name）",
            "新用户请填写姓名",
        ),
        (
            "user,,,,,,scj,handler,li_reviewer,李四,,",
            "第 15 行（列 display_name）",
            "第 11 行的值与此行不同",
        ),
        ("user,,,,,,scj,handler,short,短密码,,123", "第 15 行（列 password）", "至少 8 位"),
        ("person,,,,,,,,,,,", "第 15 行（列 kind）", "类型“person”无效"),
    ],
)
def test_a_bad_row_rejects_the_whole_file(app, session, tmp_path, bad_line, where, message):
    result = run(app, "import", str(write(tmp_path, COUNTY_CSV + bad_line + "\n")))
    assert result.exit_code != 0
    assert where in result.output and message in result.output, result.output
    assert "未导入任何数据" in result.output
    assert [count(session, m) for m in (Region, Department, Post, User)] == [0, 0, 0, 0]


def test_unreadable_files_are_refused_clearly(app, tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(COUNTY_CSV.encode("gbk"))
    assert "不是 UTF-8 编码" in run(app, "import", str(gbk)).output
    typo = write(tmp_path, "kind,code,nmae\nregion,490000000000,中原省\n")
    assert "未知的列 nmae" in run(app, "import", str(typo)).output
    fake = tmp_path / "org.xlsx"
    fake.write_bytes(b"not a workbook")
    assert "无法读取该 Excel 文件" in run(app, "import", str(fake)).output


def test_demo_builds_a_whole_county_with_a_person_for_every_post(app, session):
    started = time.perf_counter()
    result = run(app, "demo", YIMEN_DEMO_PASSWORD="county-demo-pw")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 10, f"org demo took {elapsed:.1f} s"
    assert "county-demo-pw" in result.output and "center_clerk" in result.output

    levels = dict(session.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert levels["township"] >= 20 and levels["village"] >= 400
    assert levels["province"] == levels["city"] == levels["county"] == 1
    empty = select(func.count()).select_from(Post).where(~Post.holders.any())
    assert session.scalar(empty) == 0
    assert count(session, User) == count(session, Post)
    names = session.execute(select(Region.parent_id, Region.name)).all()
    assert len(set(names)) == len(names)  # no two villages of a township share a name

    for username in ("scj_reviewer", "scj_spg_handler", "t01_clerk", "t01_reviewer", "v0101_clerk",
                     "center_clerk", "center_inspector", "jw_inspector", "bigdata_designer",
                     "bigdata_admin", "city_zrzy_kc_reviewer"):  # fmt: skip
        assert find_user(session, username) is not None, username
    clerk = find_user(session, "v0101_clerk")
    assert check_password(clerk, "county-demo-pw") and not clerk.must_change_password
    assert clerk.posts[0].department.region.level == "village"

    again = run(app, "demo")
    assert again.exit_code == 0 and "已存在，跳过" in again.output
