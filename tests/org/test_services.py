"""The organisation's rules, straight through the services."""

from datetime import timedelta

import pytest

from app.models.org import Backup, Region
from app.org import services as org
from workflows.timeutil import utcnow

from .conftest import staff


def county_tree(session) -> dict[str, Region]:
    province = org.create_region(session, code="490000000000", name="中原省", level="province")
    city = org.create_region(
        session, code="490100000000", name="平安市", level="市", parent=province
    )
    county = org.create_region(
        session, code="490102000000", name="青山县", level="county", parent=city
    )
    t1 = org.create_region(session, code="490102100000", name="城关镇", level="乡镇", parent=county)
    t2 = org.create_region(
        session, code="490102101000", name="河口镇", level="township", parent=county
    )
    v1 = org.create_region(session, code="490102100201", name="东关村", level="village", parent=t1)
    v2 = org.create_region(session, code="490102101201", name="河口村", level="village", parent=t2)
    return {
        "province": province,
        "city": city,
        "county": county,
        "t1": t1,
        "t2": t2,
        "v1": v1,
        "v2": v2,
    }


def test_paths_name_every_ancestor_and_subtrees_come_from_the_prefix(session):
    tree = county_tree(session)
    ids = {k: r.id for k, r in tree.items()}
    assert tree["v1"].path == "/{province}/{city}/{county}/{t1}/{v1}/".format(**ids)
    assert set(org.region_subtree_ids(session, tree["t1"])) == {ids["t1"], ids["v1"]}
    assert set(org.region_subtree_ids(session, tree["county"])) == {
        ids[k] for k in ("county", "t1", "t2", "v1", "v2")
    }
    assert org.ancestor_at_level(session, tree["v2"], "township").id == ids["t2"]
    assert org.ancestor_at_level(session, tree["v2"], "county").id == ids["county"]
    assert org.ancestor_at_level(session, tree["v2"], "village").id == ids["v2"]
    assert org.ancestor_at_level(session, tree["t1"], "village") is None
    assert [r.name for r in org.region_ancestors(session, tree["v1"])] == [
        "中原省",
        "平安市",
        "青山县",
        "城关镇",
    ]


def test_moving_a_township_rewrites_the_paths_of_its_villages(session):
    tree = county_tree(session)
    other = org.create_region(
        session, code="490103000000", name="白河县", level="county", parent=tree["city"]
    )
    org.update_region(
        session, tree["t1"], code="490102100000", name="城关镇", level="township", parent=other
    )
    session.expire_all()
    village = session.get(Region, tree["v1"].id)
    assert village.path.startswith(other.path)
    assert org.ancestor_at_level(session, village, "county").name == "白河县"
    assert tree["v1"].id not in org.region_subtree_ids(session, tree["county"])


def test_region_rules_are_refused_with_the_field_named(session):
    tree = county_tree(session)
    cases = [
        (
            lambda: org.create_region(session, code="4901", name="短", level="county"),
            "code",
            "12 位数字",
        ),
        (
            lambda: org.create_region(
                session, code="490102100000", name="重复", level="township", parent=tree["county"]
            ),
            "code",
            "已被“城关镇”使用",
        ),
        (
            lambda: org.create_region(
                session, code="490102199000", name="错层", level="county", parent=tree["county"]
            ),
            "level",
            "不能设在县级区划",
        ),
        (
            lambda: org.create_region(
                session, code="490102199000", name="错层", level="镇", parent=tree["county"]
            ),
            "level",
            "层级“镇”无效",
        ),
        (
            lambda: org.update_region(
                session,
                tree["county"],
                code="490102000000",
                name="青山县",
                level="county",
                parent=tree["t1"],
            ),
            "parent_code",
            "自己或它的下级",
        ),
        (
            lambda: org.update_region(
                session,
                tree["t1"],
                code="490102100000",
                name="城关镇",
                level="village",
                parent=tree["county"],
            ),
            "level",
            "有下级区划",
        ),
    ]
    for change, field, text in cases:
        with pytest.raises(org.OrgError) as caught:
            change()
        assert caught.value.field == field
        assert text in caught.value.message


def test_a_region_with_children_or_departments_is_not_deleted(session):
    tree = county_tree(session)
    with pytest.raises(org.OrgError, match="下级区划"):
        org.delete_region(session, tree["t1"])
    org.create_department(session, code="v1", name="东关村代办点", region=tree["v1"])
    with pytest.raises(org.OrgError, match="还有部门"):
        org.delete_region(session, tree["v1"])
    org.delete_region(session, tree["v2"])
    assert session.get(Region, tree["v2"].id) is None


def test_sections_belong_to_their_department_and_do_not_nest(session):
    tree = county_tree(session)
    scj = org.create_department(session, code="scj", name="县市场监督管理局", region=tree["county"])
    spg = org.create_department(session, code="scj_spg", name="审批股", parent=scj)
    assert spg.region_id == tree["county"].id and spg.is_section
    assert [s.code for s in org.sections(session, scj)] == ["scj_spg"]
    with pytest.raises(org.OrgError, match="股室下不能再设股室"):
        org.create_department(session, code="x", name="再下一级", parent=spg)
    with pytest.raises(org.OrgError, match="已有名为“审批股”"):
        org.create_department(session, code="scj_spg2", name="审批股", parent=scj)
    with pytest.raises(org.OrgError, match="已有名为“县市场监督管理局”"):
        org.create_department(session, code="scj2", name="县市场监督管理局", region=tree["county"])
    with pytest.raises(org.OrgError, match="还有股室"):
        org.delete_department(session, scj)


def test_posts_take_holders_and_keep_them_until_removed(session):
    tree = county_tree(session)
    spg = org.create_department(session, code="spg", name="审批股", region=tree["county"])
    post = org.create_post(session, spg, "审核人")
    assert post.role == "reviewer"
    with pytest.raises(org.OrgError, match="已有审核人岗位"):
        org.create_post(session, spg, "reviewer")
    li = staff(session, "li", "李审核")
    org.assign_user(session, li, post)
    with pytest.raises(org.OrgError, match="已在该岗位"):
        org.assign_user(session, li, post)
    with pytest.raises(org.OrgError, match="还有人员"):
        org.delete_post(session, post)
    org.unassign_user(session, li, post)
    org.delete_post(session, post)
    org.delete_department(session, spg)
    assert org.department_by_code(session, "spg") is None


def test_leave_hands_work_to_the_backup_until_return(session):
    zhang, wang = staff(session, "zhang", "张三"), staff(session, "wang", "王五")
    later = org.create_backup(
        session,
        holder=zhang,
        backup=wang,
        valid_from=utcnow() + timedelta(days=10),
        valid_to=utcnow() + timedelta(days=12),
        reason="年休假",
    )
    leave = org.start_leave(session, zhang, wang, None, "病假")
    assert leave.in_force(utcnow()) and leave.valid_to is None
    assert org.end_leave(session, zhang) == 1
    session.expire_all()
    assert not session.get(Backup, leave.id).in_force(utcnow() + timedelta(seconds=1))
    assert session.get(Backup, later.id).valid_to > utcnow()  # a planned leave stays
    org.end_backup(session, session.get(Backup, later.id))
    cancelled = session.get(Backup, later.id)
    assert cancelled.valid_to == cancelled.valid_from
    assert org.end_leave(session, zhang) == 0


def test_backups_refuse_oneself_and_backwards_periods(session):
    zhang, wang = staff(session, "zhang"), staff(session, "wang", active=False)
    with pytest.raises(org.OrgError) as same:
        org.start_leave(session, zhang, zhang, None, "")
    assert same.value.field == "backup"
    with pytest.raises(org.OrgError, match="已停用"):
        org.start_leave(session, zhang, wang, None, "")
    li = staff(session, "li")
    with pytest.raises(org.OrgError) as backwards:
        org.start_leave(session, zhang, li, utcnow() - timedelta(hours=1), "")
    assert backwards.value.field == "valid_to"


def test_assignment_rules_default_then_saved(session):
    rules = org.rules_for(session, "mineral_permit")
    assert (rules.when_empty, rules.when_initiator, rules.when_same_as_previous) == (
        "leader",
        "leader",
        "allow",
    )
    org.save_rules(session, "mineral_permit", when_empty="admin", when_initiator="skip")
    assert org.rules_for(session, "mineral_permit").when_empty == "admin"
    with pytest.raises(org.OrgError) as bad:
        org.save_rules(session, "mineral_permit", when_same_as_previous="never")
    assert bad.value.field == "when_same_as_previous"
