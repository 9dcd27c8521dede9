"""The shipped item catalog (bpmn/catalog.json), its loader and the diagrams it binds."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.items.catalog import (
    UNCHANGED,
    UPDATED,
    CatalogError,
    load_catalog,
    sync_catalog,
)
from app.models.items import Item, ItemMaterial
from app.org.demo import villages
from workflows.runtime import Runtime

from ..conftest import SHIPPED, api_for, bundle
from ..conftest import SHIPPED_FOLDERS as FOLDERS

CATALOG = SHIPPED / "catalog.json"
EXPECTED = {
    # code: (process, kind, lead department, statutory, committed, materials)
    "SCJ-GTGSH-BGDJ": ("business_change", "instant", "县市场监督管理局", 3, 0, 5),
    "SCJ-SPXZF-DJ": ("food_workshop", "promise", "县市场监督管理局", 15, 7, 6),
    "ZJJ-HWGG-SZSP": ("outdoor_ad", "promise", "县住房和城乡建设局", 20, 10, 6),
    "ZRZY-KCPJG-HF": ("mineral_permit", "report", "县自然资源局", 20, 14, 6),
    "SCJ-GZJJCS-LHSC": ("joint_review", "joint", "县市场监督管理局", 45, 20, 6),
    # 监督件 (好差评、投诉、办不成事): no materials
    "ZX-CPZG": ("rectification", "feedback", "青山县政务服务中心", 15, 10, 0),
    "ZX-TSCL": ("complaint", "feedback", "青山县政务服务中心", 15, 10, 0),
    "ZX-BBCS": ("cannot_do", "feedback", "青山县政务服务中心", 15, 10, 0),
}


def entries() -> list[dict]:
    return json.loads(CATALOG.read_text(encoding="utf-8"))["items"]


def write(tmp_path, items, name="catalog.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"items": items}, ensure_ascii=False), encoding="utf-8")
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- the shipped catalog -------------------------------------------------------


def test_the_shipped_catalog_loads_every_item_with_its_department_and_materials(
    deployed, demo, session
):
    loaded = load_catalog(session, CATALOG)
    session.commit()
    assert [(item.code, created) for item, created in loaded] == [(c, True) for c in EXPECTED]
    for code, (process, kind, department, statutory, committed, materials) in EXPECTED.items():
        item = session.scalars(select(Item).where(Item.code == code)).one()
        assert item.process_id == process
        assert item.kind == kind
        assert item.lead_department.name == department
        assert item.lead_department.parent_id is None
        assert (item.statutory_days, item.committed_days) == (statutory, committed)
        assert item.committed_days <= item.statutory_days * 0.7
        assert item.status == "published"
        if code == "ZJJ-HWGG-SZSP":  # charged: by 设施类型 (outdoor_ad_fee.dmn), else 100 元
            assert item.fee_amount == Decimal("100") and "墙面广告200元" in item.fee_note
        else:
            assert item.fee_amount == Decimal("0") and item.fee_note == "不收费"
        assert item.legal_basis.startswith("《") and item.conditions
        assert len(item.materials) == materials
        assert [m.position for m in item.materials] == list(range(materials))
        assert all(m.name and m.copies >= 1 for m in item.materials)
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    assert food.materials[0].name == "食品小作坊登记申请表"
    assert food.materials[0].form == "original" and food.materials[0].required
    assert [m.form for m in food.materials].count("copy") == 3
    business = session.scalars(select(Item).where(Item.code == "SCJ-GTGSH-BGDJ")).one()
    assert business.materials[-1].required is False  # 委托代理人 only when someone else comes
    joint = session.scalars(select(Item).where(Item.code == "SCJ-GZJJCS-LHSC")).one()
    assert joint.green_channel and joint.online
    assert "《中华人民共和国行政许可法》" in joint.legal_basis


def test_loading_twice_reports_unchanged_and_keeps_the_materials(deployed, demo, session):
    load_catalog(session, CATALOG)
    session.commit()
    before = session.scalars(select(ItemMaterial.id).order_by(ItemMaterial.id)).all()
    again = load_catalog(session, CATALOG)
    assert [created for _item, created in again] == [False] * len(EXPECTED)
    assert {loaded.state for loaded in sync_catalog(session, CATALOG)} == {UNCHANGED}
    assert session.scalars(select(ItemMaterial.id).order_by(ItemMaterial.id)).all() == before


def test_a_changed_entry_is_updated_and_its_materials_replaced_only_if_they_changed(
    deployed, demo, session, tmp_path
):
    load_catalog(session, CATALOG)
    session.commit()
    food_materials = session.scalars(
        select(ItemMaterial.id).join(Item).where(Item.code == "SCJ-SPXZF-DJ")
    ).all()
    items = entries()
    items[1]["committed_days"] = 5  # 食品小作坊登记: limit only
    items[2]["materials"][5]["required"] = True  # 户外广告: a material changes
    items[2]["materials"].pop(4)
    loaded = sync_catalog(session, write(tmp_path, items))
    session.commit()
    states = {each.item.code: each.state for each in loaded}
    assert states == {
        "SCJ-GTGSH-BGDJ": UNCHANGED,
        "SCJ-SPXZF-DJ": UPDATED,
        "ZJJ-HWGG-SZSP": UPDATED,
        "ZRZY-KCPJG-HF": UNCHANGED,
        "SCJ-GZJJCS-LHSC": UNCHANGED,
        "ZX-CPZG": UNCHANGED,
        "ZX-TSCL": UNCHANGED,
        "ZX-BBCS": UNCHANGED,
    }
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    assert food.committed_days == 5
    assert [m.id for m in food.materials] == food_materials
    ad = session.scalars(select(Item).where(Item.code == "ZJJ-HWGG-SZSP")).one()
    assert len(ad.materials) == 5
    assert ad.materials[4].name == "广告审查批准文件" and ad.materials[4].required
    assert [m.position for m in ad.materials] == list(range(5))
    assert count(session, ItemMaterial) == 5 + 6 + 5 + 6 + 6


def test_a_lead_department_is_found_by_the_end_of_its_name(deployed, demo, session, tmp_path):
    items = entries()[:1]
    items[0]["lead_department"] = "县市场监督管理局"
    [(item, created)] = load_catalog(session, write(tmp_path, items))
    assert created and item.lead_department.name == "县市场监督管理局"
    items[0]["lead_department"] = "登记注册股"  # a section, not a department
    with pytest.raises(CatalogError, match="SCJ-GTGSH-BGDJ"):
        load_catalog(session, write(tmp_path, items))


# --- refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kind": "urgent"}, "事项类型"),
        ({"committed_days": 30}, "超过了法定时限"),
        ({"lead_department": "气象局"}, "气象局"),
        ({"process_id": None}, "process_id"),
        ({"status": "open"}, "状态"),
        ({"materials": [{"name": "申请书", "form": "paper"}]}, "材料形式"),
        ({"materials": []}, "至少列出一项申请材料"),
        ({"materials": [{"name": "营业执照", "satisfied_by_item": "NO-SUCH"}]}, "NO-SUCH 不存在"),
        ({"materials": [{"name": "营业执照", "satisfied_by_item": "ZJJ-HWGG-SZSP"}]}, "本事项"),
        ({"result_name": "证" * 201}, "result_name"),
    ],
)
def test_a_bad_entry_raises_catalog_error_naming_its_code_and_nothing_is_written(
    deployed, demo, session, tmp_path, change, words
):
    items = entries()
    items[2] = {**items[2], **change}
    with pytest.raises(CatalogError) as caught:
        load_catalog(session, write(tmp_path, items))
    assert caught.value.code == "ZJJ-HWGG-SZSP"
    assert "ZJJ-HWGG-SZSP" in caught.value.message and words in caught.value.message
    assert count(session, Item) == 0  # the good entries before it were not written either


def test_an_item_is_not_published_before_its_process_is_deployed(api, demo, session, tmp_path):
    for name in ("business_change", "food_workshop"):
        assert api.deploy(*bundle(SHIPPED / name)).status_code == 201
    with pytest.raises(CatalogError) as caught:
        load_catalog(session, CATALOG)
    assert caught.value.code == "ZJJ-HWGG-SZSP"
    assert "outdoor_ad 尚未部署" in caught.value.message
    items = entries()
    for entry in items[2:]:
        entry["status"] = "draft"  # drafts may wait for their diagram
    loaded = load_catalog(session, write(tmp_path, items))
    assert [item.status for item, _created in loaded] == ["published"] * 2 + ["draft"] * 6


def test_duplicate_codes_and_broken_files_are_refused(demo, session, tmp_path):
    item = {**entries()[0], "status": "draft"}
    with pytest.raises(CatalogError, match="编码重复"):
        load_catalog(session, write(tmp_path, [item, item]))
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(CatalogError, match="不是有效的 JSON"):
        load_catalog(session, broken)
    with pytest.raises(CatalogError, match="缺少事项编码"):
        load_catalog(session, write(tmp_path, [{"name": "无编码"}]))
    assert count(session, Item) == 0


def test_items_load_command_prints_one_line_per_item(deployed, demo, app, session, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["items", "load", str(CATALOG)])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "SCJ-GTGSH-BGDJ 个体工商户变更登记: 已新增",
        "SCJ-SPXZF-DJ 食品小作坊登记: 已新增",
        "ZJJ-HWGG-SZSP 户外广告设施设置审批: 已新增",
        "ZRZY-KCPJG-HF 矿产品加工资格证核发: 已新增",
        "SCJ-GZJJCS-LHSC 公众聚集场所开业联合审查: 已新增",
        "ZX-CPZG 差评整改: 已新增",
        "ZX-TSCL 投诉处理: 已新增",
        "ZX-BBCS 办不成事反映: 已新增",
        "YJS-KBCYD 一件事 开办餐饮店: 已新增",
    ]
    again = runner.invoke(args=["items", "load", str(CATALOG)])
    assert again.output.splitlines()[-1] == "YJS-KBCYD 一件事 开办餐饮店: 未变化"
    items = entries()
    items[0]["fee_note"] = "免费"
    second = runner.invoke(args=["items", "load", str(write(tmp_path, items))])
    assert second.output.splitlines()[0] == "SCJ-GTGSH-BGDJ 个体工商户变更登记: 已更新"
    assert all(line.endswith("未变化") for line in second.output.splitlines()[1:])
    items[1]["kind"] = "weekly"
    bad = runner.invoke(args=["items", "load", str(write(tmp_path, items))])
    assert bad.exit_code != 0
    assert "SCJ-SPXZF-DJ" in bad.output and "未导入任何事项" in bad.output
    assert (
        session.scalars(select(Item.fee_note).where(Item.code == "SCJ-GTGSH-BGDJ")).one() == "免费"
    )


# --- the diagrams the catalog binds ---------------------------------------------


def test_intake_and_delivery_steps_of_the_shipped_diagrams(deployed, session):
    from workflows.deployments import latest_definition

    runtime = Runtime(session)
    intake = {}
    delivered = {}
    for name in FOLDERS:
        definition = latest_definition(session, name)
        intake[name] = runtime.step_with(definition.id, "step", "intake")
        found = runtime.step_with(definition.id, "case_status", "delivered")
        delivered[name] = found[0] if found else None
    assert intake["business_change"] is None  # 即办件: the window decides on its task page
    assert intake["joint_review"][0] == "Task_Accept"
    assert intake["mineral_permit"][0] == "Task_Register"
    food_id, food_form = intake["food_workshop"]
    assert food_id == "Task_Intake"
    assert food_form["required"] == ["workshop_name", "workshop_address", "food_category"]
    ad_id, ad_form = intake["outdoor_ad"]
    assert ad_id == "Task_Intake"
    assert set(ad_form["required"]) == {
        "facility_type",
        "setting_address",
        "facility_width",
        "facility_height",
        "ad_content",
        "set_until",
    }
    assert delivered == {name: None for name in FOLDERS} | {"mineral_permit": "Task_Deliver"}


def work_of(app, username: str, instance_id: int) -> list[dict]:
    response = api_for(app, username).get("/api/v1/work-items")
    assert response.status_code == 200, response.get_json()
    return [i for i in response.get_json()["work_items"] if i["instance"] == instance_id]


def do(app, username: str, instance_id: int, bpmn_id: str, data: dict) -> dict:
    """``username`` has exactly one open item of this case, ``bpmn_id``; complete it."""
    mine = work_of(app, username, instance_id)
    assert [i["bpmn_id"] for i in mine] == [bpmn_id], (username, mine)
    response = api_for(app, username).complete(mine[0], data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def case_data(code: str, name: str, lead: str) -> dict:
    place, place_name = villages(0)[0]
    return {
        "case_number": "4901022026112000001",
        "item_code": code,
        "item_name": name,
        "applicant_type": "person",
        "applicant_name": "周建华",
        "applicant_id_number": "11010519491231002X",
        "contact_phone": "13900000000",
        "place": place,
        "place_name": place_name,
        "lead_department": lead,
        "accept_date": "2026-11-20",
        "green_channel": False,
    }


def test_outdoor_ad_corrects_then_cosigns_in_each_department(deployed, demo, app):
    data = case_data("ZJJ-HWGG-SZSP", "户外广告设施设置审批", "住房和城乡建设局")
    instance_id = deployed.start("outdoor_ad", data).get_json()["id"]
    intake = {
        "facility_type": "wall",
        "setting_address": "城关街道解放路 12 号",
        "facility_width": 8,
        "facility_height": 2.5,
        "ad_content": "青山县老周豆腐坊",
        "set_until": "2029-11-30",
    }
    do(app, "center_clerk", instance_id, "Task_Intake", intake)
    do(
        app,
        "zjj_handler",
        instance_id,
        "Task_FirstReview",
        {"decision": "return", "opinion": "缺结构图", "correction_items": "设施结构图"},
    )
    do(
        app,
        "center_clerk",
        instance_id,
        "Task_Correction",
        {"received_on": "2026-11-24", "received_materials": "设施结构图"},
    )
    do(
        app,
        "zjj_handler",
        instance_id,
        "Task_FirstReview",
        {"decision": "approve", "opinion": "符合规划"},
    )
    for username, decision in (
        ("scj_reviewer", "agree"),
        ("ly_reviewer", "disagree"),
        ("zrzy_reviewer", "agree"),
    ):
        do(app, username, instance_id, "Task_Cosign", {"decision": decision, "opinion": username})
    body = do(
        app,
        "zjj_deputy",
        instance_id,
        "Task_Sign",
        {
            "decision": "approve",
            "opinion": "林业局意见已落实",
            "certificate_no": "QS-HWGG-2026-001",
        },
    )
    # approved: the decision table sets the fee by 设施类型 and the process waits for payment
    assert body["status"] == "running" and body["data"]["fee_amount"] == 200
    assert [w["name"] for w in deployed.instance(instance_id)["waits"]] == ["缴费完成"]
    paid = {
        "message_id": "pay-1",
        "name": "缴费完成",
        "correlation": {"case_number": data["case_number"]},
        "data": {"paid_amount": 200, "receipt_no": "QS-SF-0001"},
    }
    assert api_for(app, "bigdata_admin").post("/api/v1/messages", paid).status_code == 200
    body = deployed.instance(instance_id)
    assert body["status"] == "completed"
    result = body["data"]
    assert result["result"] == "approve"
    assert result["result_text"].endswith("QS-HWGG-2026-001")
    assert result["cosign_all_agreed"] is False
    assert "林业局" in result["cosign_summary"]
    assert [r["department"] for r in result["cosign_results"]] == [
        "市场监督管理局",
        "林业局",
        "自然资源局",
    ]


def test_food_workshop_returns_one_step_and_a_refusal_ends_it(deployed, demo, app):
    data = case_data("SCJ-SPXZF-DJ", "食品小作坊登记", "市场监督管理局")
    instance_id = deployed.start("food_workshop", data).get_json()["id"]
    facts = {
        "workshop_name": "老周豆腐坊",
        "workshop_address": "城关街道 3 组",
        "food_category": "soy",
    }
    do(app, "center_clerk", instance_id, "Task_Intake", facts)  # the facts came with the start
    handle = {"site_check": "pass", "decision": "approve", "opinion": "符合条件"}
    do(app, "scj_spg_handler", instance_id, "Task_Handle", handle)
    do(
        app,
        "scj_spg_reviewer",
        instance_id,
        "Task_Review",
        {"decision": "return", "opinion": "补核查记录"},
    )
    do(app, "scj_spg_handler", instance_id, "Task_Handle", handle)
    do(
        app,
        "scj_spg_reviewer",
        instance_id,
        "Task_Review",
        {"decision": "approve", "opinion": "同意"},
    )
    do(
        app,
        "scj_deputy",
        instance_id,
        "Task_Sign",
        {"decision": "return", "opinion": "复核卫生条件"},
    )
    do(
        app,
        "scj_spg_reviewer",
        instance_id,
        "Task_Review",
        {"decision": "reject", "opinion": "建议不予"},
    )
    body = do(
        app,
        "scj_deputy",
        instance_id,
        "Task_Sign",
        {"decision": "reject", "opinion": "卫生条件不符合"},
    )
    assert body["status"] == "completed"
    assert body["data"]["result"] == "reject"
    assert body["data"]["result_text"] == "不予登记。理由：卫生条件不符合"


def test_business_change_is_decided_at_the_county_window(deployed, demo, app):
    data = case_data("SCJ-GTGSH-BGDJ", "个体工商户变更登记", "市场监督管理局")
    instance_id = deployed.start("business_change", data).get_json()["id"]
    body = do(
        app,
        "center_clerk",
        instance_id,
        "Task_Decide",
        {
            "change_type": "premises",
            "decision": "approve",
            "opinion": "材料齐全",
            "registration_no": "92490102MA0000001X",
        },
    )
    assert body["status"] == "completed"
    assert body["data"]["result"] == "approve"
    assert body["data"]["certificate_no"] == "92490102MA0000001X"
