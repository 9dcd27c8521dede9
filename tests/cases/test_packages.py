"""一件事一次办: the shipped package 开办餐饮店, its combined form and materials, one
submission making one case per item, and 统一出证 once every case has ended."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.cases import packages, services
from app.cases.errors import CaseError
from app.items.catalog import CatalogError, sync_packages
from app.items.packages import shape_of
from app.models.cases import Case, CaseEvent, CasePackage
from app.models.items import ItemPackage
from app.models.org import Region
from app.vocabulary import CaseChannel, CaseEventKind, CaseStatus

from .test_window_pages import VILLAGE

CODE = "YJS-KBCYD"
ANSWERS = {
    "workshop_name": "老周糕点坊",
    "workshop_address": "城关街道人民路 12 号",
    "food_category": "pastry",
    "facility_type": "signboard",
    "facility_width": 4.5,
    "facility_height": 1.2,
    "ad_content": "老周糕点",
    "set_until": "2029-12-31",
}


@pytest.fixture(autouse=True)
def context(app):
    with app.app_context():  # the services read the center's clock from the config
        yield


def package(session) -> ItemPackage:
    return session.scalars(select(ItemPackage).where(ItemPackage.code == CODE)).one()


def applicant() -> services.Applicant:
    return services.Applicant(
        type="person", name="周建国", id_number="11010519491231002X", phone="13800001234"
    )


def receive(session, answers=None, received=None):
    shape = shape_of(session, package(session))
    place = session.scalars(select(Region).where(Region.code == VILLAGE)).one()
    intake = packages.PackageIntake(
        package=package(session),
        applicant=applicant(),
        place=place,
        answers=ANSWERS if answers is None else answers,
        received={m.key for m in shape.materials} if received is None else received,
    )
    return packages.receive_package(session, intake, "center_clerk")


def test_the_shipped_package_asks_each_shared_answer_and_material_once(shipped, tx):
    shape = shape_of(tx, package(tx))
    assert [i.code for i in shape.items] == [
        "SCJ-GTGSH-BGDJ", "SCJ-SPXZF-DJ", "SCJ-GZJJCS-LHSC", "ZJJ-HWGG-SZSP",
    ]  # fmt: skip
    address = next(f for f in shape.fields if f.key == "workshop_address")
    assert len(address.targets) == 3 and address.required  # one address for three items
    assert len({f.key for f in shape.fields}) == len(shape.fields)
    by_name = {m.name: m for m in shape.materials}
    assert len(by_name["营业执照正、副本"].members) == 3
    assert sorted(by_name["经营者身份证件"].item_names) == sorted(
        ["个体工商户变更登记", "食品小作坊登记", "户外广告设施设置审批"]
    )
    every = sum(len(i.materials) for i in shape.items)
    assert len(shape.materials) == every - 2 - 2 - 2 - 1  # four groups joined
    schema = shape.schema()
    assert "business_address" not in schema["properties"]
    assert "setting_address" not in schema["properties"]


def test_one_submission_makes_a_case_per_item_under_one_number(shipped, tx):
    bundle, cases, password = receive(tx)
    tx.commit()
    assert bundle.number.startswith("YJS490102") and len(bundle.number) == 21
    assert [c.item.code for c in cases] == [i.code for i in package(tx).items]
    assert {c.package_case_id for c in cases} == {bundle.id}
    food, joint, ad = cases[1], cases[2], cases[3]
    assert food.data["workshop_address"] == joint.data["business_address"]
    assert ad.data["setting_address"] == ANSWERS["workshop_address"]
    assert ad.data["facility_width"] == 4.5 and "workshop_name" not in ad.data
    assert all(m.received for c in cases for m in c.materials if m.required)
    assert all(services.query_password_matches(c, password) for c in cases)
    notes = tx.scalars(
        select(CaseEvent.message).where(CaseEvent.kind == CaseEventKind.PACKAGED)
    ).all()
    assert len(notes) == 4 and all(bundle.number in n for n in notes)
    assert packages.progress(bundle).stage == "办理中（已办结 0/4 项）"


def test_a_shared_material_missing_is_missing_in_every_case_that_needs_it(shipped, tx):
    shape = shape_of(tx, package(tx))
    licence = next(m for m in shape.materials if m.name == "营业执照正、副本")
    _bundle, cases, _ = receive(tx, received={m.key for m in shape.materials} - {licence.key})
    missing = {c.item.code: [m.name for m in services.missing_materials(c)] for c in cases}
    assert missing == {
        "SCJ-GTGSH-BGDJ": ["营业执照正、副本"],
        "SCJ-SPXZF-DJ": ["营业执照"],
        "SCJ-GZJJCS-LHSC": ["营业执照"],
        "ZJJ-HWGG-SZSP": [],
    }


def test_a_wrong_answer_is_named_once_and_nothing_is_written(shipped, tx):
    before = tx.scalar(select(func.count(Case.id)))
    with pytest.raises(CaseError) as caught:
        receive(tx, answers={**ANSWERS, "facility_width": -1, "workshop_address": ""})
    assert set(caught.value.fields) == {"facility_width", "workshop_address"}
    tx.rollback()
    assert tx.scalar(select(func.count(Case.id))) == before
    assert tx.scalar(select(func.count(CasePackage.id))) == 0


def _end(tx, cases, *statuses):
    for case, status in zip(cases, statuses, strict=True):
        case.status = status
    tx.flush()


def test_results_are_handed_out_together_once_every_case_has_ended(shipped, tx):
    bundle, cases, _ = receive(tx)
    _end(tx, cases[:2], CaseStatus.DECIDED, CaseStatus.DECIDED)
    with pytest.raises(CaseError, match="统一出证"):
        services.deliver(tx, cases[0], "center_clerk", "窗口领取", "周建国")
    with pytest.raises(CaseError, match="还有 2 项未办结"):
        packages.deliver_package(tx, bundle, "center_clerk", "窗口领取", "周建国")
    _end(tx, cases[2:], CaseStatus.REFUSED, CaseStatus.DECIDED)
    assert packages.progress(bundle).ready
    with pytest.raises(CaseError, match="受送达人"):
        packages.deliver_package(tx, bundle, "center_clerk", "窗口领取", " ")
    delivered = packages.deliver_package(tx, bundle, "center_clerk", "窗口领取", "周建国")
    assert [c.item.code for c in delivered] == ["SCJ-GTGSH-BGDJ", "SCJ-SPXZF-DJ", "ZJJ-HWGG-SZSP"]
    assert {c.status for c in delivered} == {CaseStatus.DELIVERED}
    assert cases[2].status == CaseStatus.REFUSED
    assert packages.progress(bundle).stage == "已统一出证"
    with pytest.raises(CaseError, match="已经统一送达"):
        packages.deliver_package(tx, bundle, "center_clerk", "窗口领取", "周建国")


def test_an_online_package_keeps_its_channel_and_account(shipped, tx):
    shape = shape_of(tx, package(tx))
    place = tx.scalars(select(Region).where(Region.code == VILLAGE)).one()
    bundle, cases, _ = packages.receive_package(
        tx,
        packages.PackageIntake(
            package=package(tx),
            applicant=applicant(),
            place=place,
            answers=ANSWERS,
            received={m.key for m in shape.materials},
            channel=CaseChannel.ONLINE,
        ),
        None,
    )
    assert bundle.channel == CaseChannel.ONLINE and bundle.channel_zh == "网上申请"
    assert {c.channel for c in cases} == {CaseChannel.ONLINE}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": ["SCJ-SPXZF-DJ"]}, "至少两个事项"),
        ({"items": ["SCJ-SPXZF-DJ", "NO-SUCH"]}, "NO-SUCH 不存在"),
        ({"same_fields": [["SCJ-SPXZF-DJ:workshop_address", "ZJJ-HWGG-SZSP:no_field"]]}, "没有这个字段"),
        ({"same_fields": [["SCJ-SPXZF-DJ:workshop_name", "ZJJ-HWGG-SZSP:facility_width"]]}, "类型不同"),
        ({"same_materials": [["SCJ-SPXZF-DJ:营业执照", "ZJJ-HWGG-SZSP:没有的材料"]]}, "没有这项材料"),
        ({"same_materials": "营业执照"}, "分组列表"),
    ],
)  # fmt: skip
def test_a_bad_package_in_the_catalog_is_named_and_nothing_changes(
    shipped, tx, tmp_path, change, message
):
    entry = {
        "code": "YJS-TEST",
        "name": "测试一件事",
        "items": ["SCJ-SPXZF-DJ", "ZJJ-HWGG-SZSP"],
        "status": "published",
        **change,
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"items": [], "packages": [entry]}, ensure_ascii=False))
    with pytest.raises(CatalogError, match=message):
        sync_packages(tx, path)
    tx.rollback()
    assert tx.scalar(select(ItemPackage.id).where(ItemPackage.code == "YJS-TEST")) is None
