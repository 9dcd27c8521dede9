"""The administrator's organisation pages, through the browser's requests."""

import re
from datetime import datetime

from sqlalchemy import select

from app.auth.services import check_password, find_user
from app.models.org import Backup, Region
from app.org import services as org
from app.org.services import department_by_code, region_by_code

from ..conftest import make_user
from .conftest import csrf_token, login, staff, submit

CSRF_OR_NONCE = re.compile(r'name="((?:csrf_token|nonce))"[^>]*value="([^"]+)"')

PASSWORD = re.compile(r'<code class="fs-5">([^<]+)</code>')


def small_county(session):
    county = org.create_region(session, code="490102000000", name="青山县", level="county")
    township = org.create_region(
        session, code="490102100000", name="城关镇", level="township", parent=county
    )
    scj = org.create_department(session, code="scj", name="县市场监督管理局", region=county)
    spg = org.create_department(session, code="scj_spg", name="审批股", parent=scj)
    post = org.create_post(session, spg, "reviewer")
    li = staff(session, "li", "李审核")
    org.assign_user(session, li, post)
    return county, township, scj, spg, post, li


def test_org_pages_are_for_administrators_only(app, client, session):
    county, township, scj, _spg, post, li = small_county(session)
    assert client.get("/org/regions").status_code == 302  # to the login page
    make_user(app, "clerk", password="clerk-password")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login(client, "clerk", "clerk-password")
    assert "组织机构" not in client.get("/account/password").get_data(as_text=True)
    pages = [
        "/org/", "/org/regions", f"/org/regions?parent={county.id}", "/org/regions/new",
        f"/org/regions/{county.id}", f"/org/regions/{county.id}/edit",
        f"/org/regions/{county.id}/departments/new", f"/org/departments/{scj.id}",
        f"/org/departments/{scj.id}/edit", f"/org/departments/{scj.id}/sections/new",
        "/org/users", "/org/users/new", f"/org/users/{li.id}", "/org/backups", "/org/rules",
        "/org/rules/edit?process_id=p",
    ]  # fmt: skip
    for url in pages:
        assert client.get(url).status_code == 403, url
    actions = [
        f"/org/regions/{township.id}/delete", f"/org/departments/{scj.id}/delete",
        f"/org/departments/{scj.id}/posts", f"/org/posts/{post.id}/delete",
        f"/org/posts/{post.id}/holders", f"/org/posts/{post.id}/holders/{li.id}/remove",
        f"/org/users/{li.id}/password", f"/org/users/{li.id}/deactivate", "/org/leave",
        "/org/leave/end", "/org/backups/new",
    ]  # fmt: skip
    for url in actions:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    assert region_by_code(session, "490102100000") is not None


def test_the_tree_opens_one_level_at_a_time_and_search_finds_any_region(app, admin, session):
    assert app.test_cli_runner().invoke(args=["org", "demo"]).exit_code == 0
    top = admin.get("/org/regions").get_data(as_text=True)
    assert "组织机构" in top and "中原省" in top and "平安市" not in top

    county = region_by_code(session, "490102000000")
    townships = admin.get(f"/org/regions?parent={county.id}").get_data(as_text=True)
    assert townships.count("<td><code>490102") == 22  # townships only, no villages
    assert "城关街道" in townships and "展开（18）" in townships

    found = admin.get("/org/regions?q=城关").get_data(as_text=True)
    assert "中原省 › 平安市 › 青山县 › </span>城关街道" in found
    by_code = admin.get("/org/regions?q=490102101").get_data(as_text=True)
    assert by_code.count("<td><code>490102101") == 20  # 东城街道 and its 19 communities

    departments = admin.get(f"/org/regions/{county.id}").get_data(as_text=True)
    assert "县市场监督管理局" in departments and "登记注册股" in departments
    assert "空缺" not in departments
    scj = department_by_code(session, "scj")
    page = admin.get(f"/org/departments/{scj.id}").get_data(as_text=True)
    assert "分管领导" in page and "scj_deputy" in page and "审批股" in page


def test_region_form_saves_moves_and_shows_field_errors(admin, session):
    missing = submit(admin, "/org/regions/new", {"code": "", "name": "", "level": "province"})
    assert missing.status_code == 400
    assert "请填写区划代码" in missing.get_data(as_text=True)
    bad = submit(admin, "/org/regions/new", {"code": "49", "name": "中原省", "level": "province"})
    assert bad.status_code == 400 and "is-invalid" in bad.get_data(as_text=True)
    assert "区划代码应为 12 位数字" in bad.get_data(as_text=True)

    assert (
        submit(
            admin,
            "/org/regions/new",
            {"code": "490000000000", "name": "中原省", "level": "province"},
        ).status_code
        == 302
    )
    province = region_by_code(session, "490000000000")
    child = {
        "code": "490100000000",
        "name": "平安市",
        "level": "city",
        "parent_code": "490000000000",
    }
    created = submit(admin, f"/org/regions/new?parent={province.id}", child)
    assert created.status_code == 302
    city = region_by_code(session, "490100000000")
    assert city.path == f"/{province.id}/{city.id}/"
    unknown = submit(
        admin, "/org/regions/new", {**child, "code": "490200000000", "parent_code": "499"}
    )
    assert "找不到区划代码 499" in unknown.get_data(as_text=True)

    moved = submit(
        admin, f"/org/regions/{city.id}/edit", {**child, "name": "平安地区", "parent_code": ""}
    )
    assert moved.status_code == 302
    session.expire_all()
    city = session.get(Region, city.id)
    assert city.name == "平安地区" and city.path == f"/{city.id}/"

    refused = submit(admin, f"/org/regions/{city.id}/edit", {**child, "level": "province"})
    assert refused.status_code == 400 and "不能设在省级区划" in refused.get_data(as_text=True)


def test_a_new_region_form_posted_twice_creates_once(admin, session):
    page = admin.get("/org/regions/new").get_data(as_text=True)
    form = {"code": "490000000000", "name": "中原省", "level": "province", "parent_code": ""}
    form |= dict(CSRF_OR_NONCE.findall(page))
    assert admin.post("/org/regions/new", data=form).status_code == 302
    again = admin.post("/org/regions/new", data=form)
    assert again.status_code == 400 and "已经提交过" in again.get_data(as_text=True)
    assert len(session.scalars(select(Region)).all()) == 1


def test_deleting_a_region_with_children_is_refused_with_a_message(admin, session):
    county, township, *_ = small_county(session)
    response = submit(admin, f"/org/regions/{county.id}/delete", {}, page="/org/regions")
    assert "还有下级区划" in admin.get(response.headers["Location"]).get_data(as_text=True)
    done = submit(admin, f"/org/regions/{township.id}/delete", {}, page="/org/regions")
    assert done.status_code == 302 and region_by_code(session, "490102100000") is None


def test_departments_sections_posts_and_holders_are_managed_on_their_pages(admin, session):
    county = org.create_region(session, code="490102000000", name="青山县", level="county")
    new = f"/org/regions/{county.id}/departments/new"
    assert submit(admin, new, {"code": "scj", "name": "县市场监督管理局"}).status_code == 302
    duplicate = submit(admin, new, {"code": "scj", "name": "另一个局"})
    assert duplicate.status_code == 400
    assert "部门代码 scj 已被“县市场监督管理局”使用" in duplicate.get_data(as_text=True)
    scj = department_by_code(session, "scj")

    section = submit(
        admin, f"/org/departments/{scj.id}/sections/new", {"code": "scj_spg", "name": "审批股"}
    )
    assert section.status_code == 302
    spg = department_by_code(session, "scj_spg")
    page = f"/org/departments/{spg.id}"
    assert (
        submit(admin, f"/org/departments/{spg.id}/posts", {"role": "reviewer"}, page).status_code
        == 302
    )
    again = submit(admin, f"/org/departments/{spg.id}/posts", {"role": "reviewer"}, page)
    assert again.status_code == 400 and "已有审核人岗位" in again.get_data(as_text=True)

    (post,) = _posts(session, spg.id)
    li = staff(session, "li", "李审核")
    assert (
        submit(admin, f"/org/posts/{post.id}/holders", {"username": "li"}, page).status_code == 302
    )
    assert "李审核" in admin.get(page).get_data(as_text=True)
    nobody = submit(admin, f"/org/posts/{post.id}/holders", {"username": "nobody"}, page)
    assert nobody.status_code == 400
    assert 'is-invalid" name="username" value="nobody"' in nobody.get_data(as_text=True)
    assert "找不到用户 nobody" in nobody.get_data(as_text=True)

    busy = submit(admin, f"/org/posts/{post.id}/delete", {}, page)
    assert "还有人员" in admin.get(busy.headers["Location"]).get_data(as_text=True)
    submit(admin, f"/org/posts/{post.id}/holders/{li.id}/remove", {}, page)
    assert "空缺" in admin.get(page).get_data(as_text=True)

    renamed = submit(
        admin, f"/org/departments/{spg.id}/edit", {"code": "scj_spg", "name": "行政审批股"}
    )
    assert renamed.status_code == 302
    session.expire_all()
    assert department_by_code(session, "scj_spg").name == "行政审批股"
    refused = submit(admin, f"/org/departments/{scj.id}/delete", {}, page)
    assert "还有股室" in admin.get(refused.headers["Location"]).get_data(as_text=True)


def _posts(session, department_id):
    from sqlalchemy import select

    from app.models.org import Post

    return session.scalars(select(Post).where(Post.department_id == department_id)).all()


def test_users_are_searched_and_paged(admin, session):
    small_county(session)
    for i in range(55):
        staff(session, f"u{i:03d}", f"用户{i}", phone=f"1390000{i:04d}")
    first = admin.get("/org/users").get_data(as_text=True)
    assert (
        "共 57 人" in first and "第 1 / 2 页" in first and "u047" in first and "u048" not in first
    )
    second = admin.get("/org/users?page=2").get_data(as_text=True)
    assert "u054" in second and "审批股 审核人" in admin.get("/org/users?q=李").get_data(
        as_text=True
    )
    by_phone = admin.get("/org/users?q=13900000007").get_data(as_text=True)
    assert "u007" in by_phone and "u008" not in by_phone


def test_a_new_user_gets_a_password_shown_once_and_must_change_it(app, admin, session):
    bad = submit(admin, "/org/users/new", {"username": "张三", "display_name": "张三"})
    assert bad.status_code == 400 and "用户名只能由字母" in bad.get_data(as_text=True)
    created = submit(
        admin, "/org/users/new", {"username": "zhangsan", "display_name": "张三", "phone": "139"}
    )
    assert created.status_code == 200
    password = PASSWORD.search(created.get_data(as_text=True)).group(1)
    user = find_user(session, "zhangsan")
    assert check_password(user, password) and user.must_change_password
    assert password not in admin.get(f"/org/users/{user.id}").get_data(as_text=True)
    again = submit(admin, "/org/users/new", {"username": "zhangsan", "display_name": "张三"})
    assert "用户名 zhangsan 已存在" in again.get_data(as_text=True)

    browser = app.test_client()
    assert login(browser, "zhangsan", password).status_code == 302
    assert browser.get("/org/users").headers["Location"].endswith("/account/password")


def test_an_admin_edits_deactivates_and_resets_a_user(admin, session):
    wang = staff(session, "wangwu", "王五")
    url = f"/org/users/{wang.id}"
    assert submit(admin, url, {"display_name": "王五五", "phone": "13900000005"}).status_code == 302
    empty = submit(admin, url, {"display_name": "", "phone": ""})
    assert empty.status_code == 400 and "请填写姓名" in empty.get_data(as_text=True)

    submit(admin, f"{url}/deactivate", {}, url)
    session.expire_all()
    assert find_user(session, "wangwu").display_name == "王五五"
    assert not find_user(session, "wangwu").active
    root = find_user(session, "root")
    refused = submit(admin, f"/org/users/{root.id}/deactivate", {}, url)
    assert "不能停用自己的账号" in admin.get(refused.headers["Location"]).get_data(as_text=True)

    short = submit(admin, f"{url}/password", {"password": "123"}, url)
    assert short.status_code == 400 and "密码至少 8 位" in short.get_data(as_text=True)
    reset = submit(admin, f"{url}/password", {"password": ""}, url)
    password = PASSWORD.search(reset.get_data(as_text=True)).group(1)
    session.expire_all()
    wang = find_user(session, "wangwu")
    assert check_password(wang, password) and wang.must_change_password


def test_leave_creates_a_backup_and_return_ends_it(admin, session):
    zhang, wang = staff(session, "zhang", "张三"), staff(session, "wang", "王五")
    same = submit(
        admin, "/org/leave", {"leave-holder": "zhang", "leave-backup": "zhang"}, "/org/backups"
    )
    assert same.status_code == 400 and "B角不能是 A角本人" in same.get_data(as_text=True)
    unknown = submit(
        admin, "/org/leave", {"leave-holder": "zhao", "leave-backup": "wang"}, "/org/backups"
    )
    assert "找不到用户 zhao" in unknown.get_data(as_text=True)

    fields = {"leave-holder": "zhang", "leave-backup": "wang", "leave-reason": "病假"}
    assert submit(admin, "/org/leave", fields, "/org/backups").status_code == 302
    (backup,) = session.query(Backup).all()
    assert (backup.holder_id, backup.backup_id, backup.valid_to) == (zhang.id, wang.id, None)
    listed = admin.get("/org/backups").get_data(as_text=True)
    assert "生效中" in listed and "病假" in listed

    back = submit(admin, "/org/leave/end", {"return-holder": "zhang"}, "/org/backups")
    assert "已销假，结束了 1 项代理" in admin.get(back.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.get(Backup, backup.id).valid_to is not None


def test_a_scoped_backup_is_entered_in_local_time_and_can_be_ended(admin, session):
    small_county(session)
    staff(session, "zhang"), staff(session, "wang")
    fields = {
        "ab-holder": "zhang", "ab-backup": "wang", "ab-department_code": "scj",
        "ab-process_id": "mineral_permit", "ab-valid_from": "2030-01-01T09:00",
        "ab-valid_to": "2030-01-05T18:00", "ab-reason": "出差",
    }  # fmt: skip
    unknown = submit(
        admin, "/org/backups/new", {**fields, "ab-department_code": "nope"}, "/org/backups"
    )
    assert unknown.status_code == 400 and "找不到部门代码 nope" in unknown.get_data(as_text=True)
    backwards = submit(
        admin, "/org/backups/new", {**fields, "ab-valid_to": "2029-12-31T09:00"}, "/org/backups"
    )
    assert "结束时间应晚于开始时间" in backwards.get_data(as_text=True)

    assert submit(admin, "/org/backups/new", fields, "/org/backups").status_code == 302
    (backup,) = session.query(Backup).all()
    assert backup.valid_from == datetime(2030, 1, 1, 1, 0)  # Asia/Shanghai is UTC+8
    assert backup.department.code == "scj" and backup.process_id == "mineral_permit"
    assert "未开始" in admin.get("/org/backups").get_data(as_text=True)
    submit(admin, f"/org/backups/{backup.id}/end", {}, "/org/backups")
    session.expire_all()
    ended = session.get(Backup, backup.id)
    assert ended.valid_to == ended.valid_from  # cancelled before it started


def test_assignment_rules_are_set_per_process(admin, session):
    listing = admin.get("/org/rules").get_data(as_text=True)
    assert "找不到办理人时" in listing and "交本部门领导岗位办理" in listing
    url = "/org/rules/edit?process_id=mineral_permit"
    choices = {"when_empty": "admin", "when_initiator": "skip", "when_same_as_previous": "leader"}
    bad = submit(admin, url, {**choices, "when_initiator": "maybe"})
    assert bad.status_code == 400 and "处理方式无效" in bad.get_data(as_text=True)
    assert submit(admin, url, choices).status_code == 302
    listing = admin.get("/org/rules").get_data(as_text=True)
    assert "mineral_permit" in listing and "交系统管理员处理" in listing
    assert org.rules_for(session, "mineral_permit").when_same_as_previous == "leader"
