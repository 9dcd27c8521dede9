"""Approval operations: 退回, 撤回, 转办, 委派, 加签/减签, 会签 completion modes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows import models as m
from workflows.errors import (
    OperationRefused,
    ReasonRequired,
    RuntimeErrorBase,
    UnknownStep,
    WorkItemConflict,
)

from ..conftest import SHIPPED, bundle
from ..diagrams import HEADER
from .test_joint_review import ACCEPT, REVIEWS, approve, start_and_accept

FIRE, ENV, HEALTH = REVIEWS
INTAKE = {
    "facility_type": "signboard",
    "setting_address": "城关镇解放路 8 号",
    "facility_width": 6,
    "facility_height": 1.5,
    "ad_content": "某某超市",
    "set_until": "2027-11-20",
}


def run(rt, operation: str, *args, **kwargs):
    """Call a runtime operation in its own transaction, as a request does."""
    try:
        result = getattr(rt, operation)(*args, **kwargs)
    except RuntimeErrorBase:
        rt.session.rollback()
        raise
    rt.session.commit()
    if isinstance(result, (m.WorkItem, m.ProcessInstance)):
        rt.session.refresh(result)  # read it now, then let go of the SQLite write lock
        rt.session.expunge(result)
        rt.session.rollback()
    return result


def ask(rt, query: str, *args):
    """A read-only runtime call; ends its transaction (SQLite locks at BEGIN)."""
    try:
        return getattr(rt, query)(*args)
    finally:
        rt.session.rollback()


def targets(rt, work_item_id) -> list[str]:
    return [t["bpmn_id"] for t in ask(rt, "return_targets", work_item_id)]


def refused(rt, error, operation: str, *args, **kwargs) -> RuntimeErrorBase:
    with pytest.raises(error) as caught:
        run(rt, operation, *args, **kwargs)
    assert caught.value.message  # a Chinese sentence for the user
    return caught.value


def snapshot(api, instance_id) -> tuple:
    body = api.instance(instance_id)
    items = sorted((i["bpmn_id"], i["version"], i["assignee"]) for i in body["work_items"])
    return body["revision"], items


def kinds(session, instance_id) -> list[tuple[str, str | None]]:
    rows = session.scalars(
        select(m.InstanceEvent)
        .where(m.InstanceEvent.instance_id == instance_id)
        .order_by(m.InstanceEvent.id)
    )
    return [(e.kind, e.bpmn_id) for e in rows]


def item_row(session, item_id) -> m.WorkItem:
    session.expire_all()
    return session.get(m.WorkItem, item_id)


def review(decision="approve"):
    return {"decision": decision, "opinion": "意见"}


@pytest.fixture
def joint(api):
    assert api.deploy(*bundle(SHIPPED / "joint_review")).status_code == 201
    return api


# --- 退回 on the shipped 联办件 ---------------------------------------------------


def test_a_department_returns_the_case_to_the_window_and_every_branch_is_cancelled(
    joint, rt, session
):
    instance_id = start_and_accept(joint)
    items = joint.open_items(instance_id)
    joint.complete(items[ENV], review())
    fire = items[FIRE]
    assert ask(rt, "return_targets", fire["id"]) == [{"bpmn_id": "Task_Accept", "name": "受理"}]

    run(rt, "return_to", fire["id"], "Task_Accept", "admin", "申请表缺少签字", fire["version"])

    again = joint.open_items(instance_id)
    assert list(again) == ["Task_Accept"]
    assert item_row(session, fire["id"]).status == m.RETURNED
    assert item_row(session, items[HEALTH]["id"]).status == m.CANCELLED
    event = session.scalars(select(m.InstanceEvent).where(m.InstanceEvent.kind == "returned")).one()
    assert (event.actor, event.message, event.bpmn_id) == ("admin", "申请表缺少签字", FIRE)
    assert event.data == {"to": "Task_Accept", "to_name": "受理"}
    # the case goes on normally from the window, through the split and the join
    joint.complete(again["Task_Accept"], ACCEPT)
    assert joint.instance(instance_id)["error"] is None
    assert set(joint.open_items(instance_id)) == set(REVIEWS)
    for bpmn_id in REVIEWS:
        joint.complete(joint.open_items(instance_id)[bpmn_id], review())
    assert list(joint.open_items(instance_id)) == ["Task_LeadSummary"]
    assert joint.instance(instance_id)["data"]["review_round"] == 2


def test_the_leader_returns_to_the_lead_summary_or_the_window_never_into_one_branch(joint, rt):
    instance_id = start_and_accept(joint)
    for bpmn_id in REVIEWS:
        joint.complete(joint.open_items(instance_id)[bpmn_id], review())
    joint.complete(joint.open_items(instance_id)["Task_LeadSummary"], approve())
    sign = joint.open_items(instance_id)["Task_LeaderSign"]
    assert targets(rt, sign["id"]) == ["Task_LeadSummary", "Task_Accept"]  # the previous step first

    refused(rt, OperationRefused, "return_to", sign["id"], FIRE, "admin", "消防再看看")
    run(rt, "return_to", sign["id"], "Task_LeadSummary", "admin", "汇总意见不完整")
    lead = joint.open_items(instance_id)["Task_LeadSummary"]
    assert lead["due_at"] is not None  # the boundary timer of the summary is back
    joint.complete(lead, approve("已补充"))
    sign = joint.open_items(instance_id)["Task_LeaderSign"]
    run(rt, "return_to", sign["id"], "Task_Accept", "admin", "重新受理")
    assert list(joint.open_items(instance_id)) == ["Task_Accept"]


def test_refused_returns_change_nothing(joint, rt):
    instance_id = start_and_accept(joint)
    items = joint.open_items(instance_id)
    fire = items[FIRE]
    before = snapshot(joint, instance_id)
    refused(rt, UnknownStep, "return_to", fire["id"], "Task_NoSuchStep", "admin", "理由")
    refused(rt, OperationRefused, "return_to", fire["id"], ENV, "admin", "另一个部门")
    refused(rt, OperationRefused, "return_to", fire["id"], "Task_LeaderSign", "admin", "未经过")
    refused(rt, ReasonRequired, "return_to", fire["id"], "Task_Accept", "admin", "  ")
    stale = refused(rt, WorkItemConflict, "return_to", fire["id"], "Task_Accept", "admin", "x", 99)
    assert stale.details["current_version"] == fire["version"]
    assert snapshot(joint, instance_id) == before
    run(rt, "return_to", fire["id"], "Task_Accept", "admin", "退回")
    again = refused(rt, WorkItemConflict, "return_to", fire["id"], "Task_Accept", "admin", "再退")
    assert "已退回" in again.message  # a double submit


# --- 退回 inside one parallel branch ------------------------------------------------


def branches(process_id="branches") -> bytes:
    """start → intake → split → (a1 → a2 | b1) → join → final → end."""
    users = "".join(
        f'<bpmn:userTask id="{t}" name="{t}"/>' for t in ("intake", "a1", "a2", "b1", "final")
    )
    flows = [
        ("start", "intake"),
        ("intake", "split"),
        ("split", "a1"),
        ("a1", "a2"),
        ("a2", "join"),
        ("split", "b1"),
        ("b1", "join"),
        ("join", "final"),
        ("final", "end"),
    ]
    xml = (
        HEADER.format(pid=process_id)
        + f'<bpmn:process id="{process_id}" isExecutable="true"><bpmn:startEvent id="start"/>'
        + users
        + '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>'
        + '<bpmn:endEvent id="end"/>'
        + "".join(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
            for i, (a, b) in enumerate(flows)
        )
        + "</bpmn:process></bpmn:definitions>"
    )
    return xml.encode()


@pytest.fixture
def split_case(api):
    assert api.deploy(("branches.bpmn", branches())).status_code == 201
    instance_id = api.start("branches").get_json()["id"]
    api.complete(api.open_items(instance_id)["intake"], {"who": "window"})
    return instance_id


def test_a_return_within_a_branch_reopens_that_branch_and_the_join_still_waits(api, rt, split_case):
    instance_id = split_case
    api.complete(api.open_items(instance_id)["a1"], {"a1": "first"})
    items = api.open_items(instance_id)
    assert set(items) == {"a2", "b1"}
    assert targets(rt, items["a2"]["id"]) == ["a1", "intake"]
    assert targets(rt, items["b1"]["id"]) == ["intake"]

    b1 = items["b1"]
    run(rt, "return_to", items["a2"]["id"], "a1", "admin", "a1 再核对")
    items = api.open_items(instance_id)
    assert set(items) == {"a1", "b1"}
    assert items["b1"] == b1  # the other branch is untouched
    api.complete(items["b1"], {"b1": "done"})
    assert list(api.open_items(instance_id)) == ["a1"]  # the join waits for branch a
    api.complete(api.open_items(instance_id)["a1"], {"a1": "second"})
    api.complete(api.open_items(instance_id)["a2"], {"a2": "done"})
    assert list(api.open_items(instance_id)) == ["final"]
    data = api.instance(instance_id)["data"]
    assert (data["a1"], data["a2"], data["b1"]) == ("second", "done", "done")


def test_a_return_before_the_split_cancels_both_branches(api, rt, session, split_case):
    instance_id = split_case
    items = api.open_items(instance_id)
    run(rt, "return_to", items["b1"]["id"], "intake", "admin", "重新受理")
    assert list(api.open_items(instance_id)) == ["intake"]
    assert item_row(session, items["a1"]["id"]).status == m.CANCELLED
    api.complete(api.open_items(instance_id)["intake"], {"who": "again"})
    assert set(api.open_items(instance_id)) == {"a1", "b1"}


# --- 撤回 --------------------------------------------------------------------------


def offered(rt, item_id: int, actor: str) -> bool:
    """Whether the 已办 list offers 撤回 of the item to ``actor`` (Runtime.take_back_offers)."""
    rt.session.expire_all()
    return item_id in rt.take_back_offers([rt.session.get(m.WorkItem, item_id)], actor)


def test_the_window_takes_back_its_acceptance_until_a_department_claims(joint, rt, session):
    instance_id = start_and_accept(joint)
    accept = session.scalars(select(m.WorkItem).where(m.WorkItem.bpmn_id == "Task_Accept")).one()
    refused(rt, OperationRefused, "take_back", accept.id, "someone_else")
    assert offered(rt, accept.id, "admin") and not offered(rt, accept.id, "someone_else")
    run(rt, "take_back", accept.id, "admin", "漏填地址")
    items = joint.open_items(instance_id)
    assert list(items) == ["Task_Accept"]
    assert ("taken_back", "Task_Accept") in kinds(session, instance_id)

    joint.complete(items["Task_Accept"], ACCEPT)
    fire = joint.open_items(instance_id)[FIRE]
    run(rt, "claim", fire["id"], "fire_reviewer")
    second = session.scalars(
        select(m.WorkItem).where(m.WorkItem.bpmn_id == "Task_Accept", m.WorkItem.status == m.DONE)
    ).one()
    before = snapshot(joint, instance_id)
    assert not offered(rt, second.id, "admin")
    error = refused(rt, OperationRefused, "take_back", second.id, "admin")
    assert "已被认领" in error.message
    assert snapshot(joint, instance_id) == before


def test_a_department_takes_back_its_review_while_the_join_waits(joint, rt, session):
    instance_id = start_and_accept(joint)
    items = joint.open_items(instance_id)
    joint.complete(items[FIRE], review("return"))
    assert offered(rt, items[FIRE]["id"], "admin")  # the join still waits for the others
    run(rt, "take_back", items[FIRE]["id"], "admin")
    assert set(joint.open_items(instance_id)) == set(REVIEWS)
    joint.complete(joint.open_items(instance_id)[FIRE], review())
    joint.complete(joint.open_items(instance_id)[ENV], review())
    joint.complete(joint.open_items(instance_id)[HEALTH], review())
    assert list(joint.open_items(instance_id)) == ["Task_LeadSummary"]
    assert joint.instance(instance_id)["data"]["fire_review"]["decision"] == "approve"
    # after the join only the lead department can send it back
    last = item_row(session, items[HEALTH]["id"])
    assert refused(rt, OperationRefused, "take_back", items[ENV]["id"], "admin")
    assert not offered(rt, items[ENV]["id"], "admin") and not offered(rt, last.id, "admin")
    error = refused(rt, OperationRefused, "take_back", last.id, "admin")
    assert "汇合" in error.message  # the lead summary joins all branches


# --- 转办 and 委派 --------------------------------------------------------------------


def test_transfer_gives_the_item_to_a_colleague(joint, rt, session):
    instance_id = joint.start("joint_review").get_json()["id"]
    accept = joint.open_items(instance_id)["Task_Accept"]
    refused(rt, ReasonRequired, "transfer", accept["id"], "admin", "clerk2", "")
    refused(rt, OperationRefused, "transfer", accept["id"], "admin", "admin", "给自己")
    item = run(rt, "transfer", accept["id"], "admin", "clerk2", "本人外出培训")
    assert (item.assignee, item.version) == ("clerk2", accept["version"] + 1)
    refused(rt, WorkItemConflict, "transfer", accept["id"], "admin", "clerk3", "再转")
    assert joint.complete(joint.open_items(instance_id)["Task_Accept"], ACCEPT).status_code == 409
    event = session.scalars(
        select(m.InstanceEvent).where(m.InstanceEvent.kind == "transferred")
    ).one()
    assert (event.actor, event.message, event.data) == (
        "admin",
        "本人外出培训",
        {"from": None, "to": "clerk2"},
    )


def test_a_delegate_answers_and_the_owner_completes(joint, rt, session):
    instance_id = start_and_accept(joint)
    fire = joint.open_items(instance_id)[FIRE]
    item = run(rt, "delegate", fire["id"], "admin", "expert", "请消防专家把关")
    assert (item.assignee, item.delegated_to, item.delegation) == ("admin", "expert", "pending")
    blocked = joint.complete(joint.open_items(instance_id)[FIRE], review())
    assert blocked.status_code == 409
    assert "委派" in blocked.get_json()["error"]["message"]
    refused(rt, OperationRefused, "resolve_delegation", fire["id"], "admin", "我自己答")
    refused(rt, WorkItemConflict, "delegate", fire["id"], "admin", "other", "再委派")
    item = run(rt, "resolve_delegation", fire["id"], "expert", "疏散通道宽度符合要求")
    assert (item.delegation, item.delegation_answer) == ("answered", "疏散通道宽度符合要求")
    assert item.assignee == "admin"
    assert joint.complete(joint.open_items(instance_id)[FIRE], review()).status_code == 200
    assert [k for k, _ in kinds(session, instance_id) if "deleg" in k] == [
        "delegated",
        "delegation_resolved",
    ]


# --- 加签 / 减签 on the shipped 会签 ---------------------------------------------------


@pytest.fixture
def cosign_case(api):
    return start_cosign(api)


def start_cosign(api) -> int:
    """An 户外广告 case whose 会签 of three departments has started."""
    assert api.deploy(*bundle(SHIPPED / "outdoor_ad")).status_code == 201
    instance_id = api.start("outdoor_ad").get_json()["id"]
    intake = api.open_items(instance_id)["Task_Intake"]
    response = api.complete(intake, INTAKE)
    assert response.status_code == 200, response.get_json()
    first = api.open_items(instance_id)["Task_FirstReview"]
    assert api.complete(first, {"decision": "approve", "opinion": "符合规划"}).status_code == 200
    return instance_id


def cosign_items(api, rt, instance_id, bpmn_id="Task_Cosign") -> dict[str, dict]:
    """Open 会签 work items by signer."""
    by_task = {
        s["task_id"]: s["signer"]
        for s in ask(rt, "signers", instance_id, bpmn_id)
        if s["status"] == "open"
    }
    response = api.get(f"/api/v1/work-items?instance={instance_id}")
    return {
        by_task[i["task_id"]]: i
        for i in response.get_json()["work_items"]
        if i["bpmn_id"] == bpmn_id
    }


def test_signers_are_added_and_removed_while_the_cosign_runs(api, rt, session, cosign_case):
    instance_id = cosign_case
    signers = cosign_items(api, rt, instance_id)
    assert set(signers) == {"市场监督管理局", "林业局", "自然资源局"}
    api.complete(signers["林业局"], {"decision": "agree", "opinion": "不占林地"})

    run(rt, "add_signer", instance_id, "Task_Cosign", "交通运输局", "admin", "临近公路")
    assert set(cosign_items(api, rt, instance_id)) == {"市场监督管理局", "自然资源局", "交通运输局"}
    refused(
        rt, OperationRefused, "add_signer", instance_id, "Task_Cosign", "林业局", "admin", "重复"
    )
    error = refused(
        rt, OperationRefused, "remove_signer", instance_id, "Task_Cosign", "林业局", "admin", "x"
    )
    assert "已签署" in error.message
    refused(rt, UnknownStep, "add_signer", instance_id, "Task_Nope", "某局", "admin", "x")

    run(rt, "remove_signer", instance_id, "Task_Cosign", "自然资源局", "admin", "不涉及用地")
    left = cosign_items(api, rt, instance_id)
    assert set(left) == {"市场监督管理局", "交通运输局"}
    for item in left.values():
        api.complete(item, {"decision": "agree", "opinion": "同意"})
    body = api.instance(instance_id)
    assert [i["bpmn_id"] for i in body["work_items"]] == ["Task_Sign"]
    departments = [r["department"] for r in body["data"]["cosign_results"]]
    assert sorted(departments) == sorted(["林业局", "市场监督管理局", "交通运输局"])
    assert body["data"]["cosign_departments"] == ["市场监督管理局", "林业局", "交通运输局"]
    events = [k for k, _ in kinds(session, instance_id)]
    assert events.count("signer_added") == 1 and events.count("signer_removed") == 1


def test_a_cosign_signer_returns_the_case_to_the_first_review(api, rt, cosign_case):
    instance_id = cosign_case
    signers = cosign_items(api, rt, instance_id)
    item = signers["林业局"]
    assert targets(rt, item["id"]) == [
        "Task_FirstReview",
        "Task_Intake",
    ]
    run(rt, "return_to", item["id"], "Task_FirstReview", "admin", "设置地点占用绿地")
    assert list(api.open_items(instance_id)) == ["Task_FirstReview"]
    first = api.open_items(instance_id)["Task_FirstReview"]
    api.complete(first, {"decision": "approve", "opinion": "已调整位置"})
    assert len(cosign_items(api, rt, instance_id)) == 3  # a new 会签 round


# --- 会签 completion modes --------------------------------------------------------------


def cosign_diagram(process_id: str, mode: str, sequential: bool = False) -> bytes:
    """start → pick (script) → sign (multi-instance over ``signers``) → after → end."""
    flag = ' isSequential="true"' if sequential else ""
    xml = (
        HEADER.format(pid=process_id)
        + f'<bpmn:process id="{process_id}" isExecutable="true"><bpmn:startEvent id="start"/>'
        + '<bpmn:scriptTask id="pick" name="pick"><bpmn:script>'
        + "signers = ['甲', '乙', '丙', '丁', '戊']</bpmn:script></bpmn:scriptTask>"
        + '<bpmn:userTask id="sign" name="会签"><bpmn:extensionElements><spiffworkflow:properties>'
        + f'<spiffworkflow:property name="sign_mode" value="{mode}"/>'
        + "</spiffworkflow:properties></bpmn:extensionElements>"
        + f"<bpmn:multiInstanceLoopCharacteristics{flag}>"
        + "<bpmn:loopDataInputRef>signers</bpmn:loopDataInputRef>"
        + "<bpmn:loopDataOutputRef>decisions</bpmn:loopDataOutputRef>"
        + '<bpmn:inputDataItem id="signer" name="signer"/>'
        + '<bpmn:outputDataItem id="decision" name="decision"/>'
        + "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        + '<bpmn:userTask id="after" name="after"/><bpmn:endEvent id="end"/>'
        + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pick"/>'
        + '<bpmn:sequenceFlow id="f2" sourceRef="pick" targetRef="sign"/>'
        + '<bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="after"/>'
        + '<bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end"/>'
        + "</bpmn:process></bpmn:definitions>"
    )
    return xml.encode()


def sign_items(api, instance_id) -> list[dict]:
    response = api.get(f"/api/v1/work-items?instance={instance_id}")
    return [i for i in response.get_json()["work_items"] if i["bpmn_id"] == "sign"]


def assert_signed_off(api, instance_id, passed: bool) -> None:
    """The 会签 is over: the next step is open and the outcome is in the data."""
    body = api.instance(instance_id)
    assert [i["bpmn_id"] for i in body["work_items"]] == ["after"]
    assert body["data"]["sign_passed"] is passed


def start_mode(api, mode, sequential=False) -> int:
    process_id = "mode_" + mode.replace(":", "_").replace(".", "_")
    response = api.deploy((f"{process_id}.bpmn", cosign_diagram(process_id, mode, sequential)))
    assert response.status_code in (200, 201), response.get_json()  # now, or the same bundle before
    return api.start(process_id).get_json()["id"]


def test_any_mode_the_first_signer_decides_and_the_others_are_cancelled(api):
    instance_id = start_mode(api, "any")
    items = sign_items(api, instance_id)
    assert len(items) == 5
    api.complete(items[2], {"decision": "disagree"})
    assert_signed_off(api, instance_id, passed=False)
    assert api.complete(items[0], {"decision": "agree"}).status_code == 409


def test_all_mode_waits_for_everyone_and_needs_every_agreement(api):
    instance_id = start_mode(api, "all")
    items = sign_items(api, instance_id)
    for n, item in enumerate(items):
        assert api.open_items(instance_id)  # still signing
        api.complete(item, {"decision": "disagree" if n == 1 else "agree"})
    assert_signed_off(api, instance_id, passed=False)


def test_ratio_mode_finishes_as_soon_as_the_share_is_reached(api):
    instance_id = start_mode(api, "ratio:0.6")
    items = sign_items(api, instance_id)
    for item in items[:2]:
        api.complete(item, {"decision": "agree"})
    assert len(sign_items(api, instance_id)) == 3
    api.complete(items[2], {"decision": "agree"})  # 3 of 5 = 0.6
    assert_signed_off(api, instance_id, passed=True)


def test_ratio_mode_finishes_when_the_share_can_no_longer_be_reached(api):
    instance_id = start_mode(api, "ratio:0.6")
    items = sign_items(api, instance_id)
    api.complete(items[0], {"decision": "disagree"})
    assert len(sign_items(api, instance_id)) == 4
    api.complete(items[1], {"decision": "disagree"})  # at most 3 of 5 left: still possible
    assert len(sign_items(api, instance_id)) == 3
    api.complete(items[2], {"decision": "disagree"})  # at most 2 of 5
    assert_signed_off(api, instance_id, passed=False)


def test_sequential_mode_signs_in_turn_stops_at_a_refusal_and_takes_new_signers(api, rt):
    instance_id = start_mode(api, "sequential", sequential=True)
    first = sign_items(api, instance_id)
    assert len(first) == 1
    api.complete(first[0], {"decision": "agree"})
    run(rt, "add_signer", instance_id, "sign", "己", "admin", "增加法制审核")
    run(rt, "remove_signer", instance_id, "sign", "丙", "admin", "不涉及")
    turns = []
    while True:
        items = sign_items(api, instance_id)
        if not items:
            break
        turns.append(api.get(f"/api/v1/work-items/{items[0]['id']}").get_json())
        api.complete(items[0], {"decision": "agree"})
    data = api.instance(instance_id)["data"]
    assert len(turns) == 4  # 乙, 丁, 戊, 己
    assert data["signers"] == ["甲", "乙", "丁", "戊", "己"]
    assert data["sign_passed"] is True

    second = start_mode(api, "sequential", sequential=True)
    api.complete(sign_items(api, second)[0], {"decision": "agree"})
    api.complete(sign_items(api, second)[0], {"decision": "disagree"})
    assert_signed_off(api, second, passed=False)


def test_a_step_in_a_branch_is_taken_back_while_its_next_step_is_untouched(
    api, rt, session, split_case
):
    instance_id = split_case
    a1 = api.open_items(instance_id)["a1"]
    api.complete(a1, {"a1": "first"})
    b1 = api.open_items(instance_id)["b1"]
    assert offered(rt, a1["id"], "admin")
    run(rt, "take_back", a1["id"], "admin", "填错了")
    items = api.open_items(instance_id)
    assert set(items) == {"a1", "b1"}
    assert items["b1"] == b1
    reopened = item_row(session, items["a1"]["id"])
    assert reopened.previous_item_id == a1["id"]
    assert item_row(session, a1["id"]).status == m.RETURNED
    again = refused(rt, OperationRefused, "take_back", a1["id"], "admin")
    assert "退回" in again.message  # a double submit
    api.complete(items["a1"], {"a1": "second"})
    api.complete(api.open_items(instance_id)["a2"], {"a2": "done"})
    api.complete(api.open_items(instance_id)["b1"], {"b1": "done"})
    assert list(api.open_items(instance_id)) == ["final"]
    assert api.instance(instance_id)["data"]["a1"] == "second"


def test_the_leader_returns_the_case_to_a_new_cosign_round(api, rt, cosign_case):
    instance_id = cosign_case
    for item in cosign_items(api, rt, instance_id).values():
        api.complete(item, {"decision": "agree", "opinion": "同意"})
    sign = api.open_items(instance_id)["Task_Sign"]
    assert targets(rt, sign["id"])[0] == "Task_Cosign"
    run(rt, "return_to", sign["id"], "Task_Cosign", "admin", "请各部门复核")
    again = cosign_items(api, rt, instance_id)
    assert set(again) == {"市场监督管理局", "林业局", "自然资源局"}
    for item in again.values():
        api.complete(item, {"decision": "agree", "opinion": "复核同意"})
    body = api.instance(instance_id)
    assert [i["bpmn_id"] for i in body["work_items"]] == ["Task_Sign"]
    assert len(body["data"]["cosign_results"]) == 3  # the new round only
    assert {r["opinion"] for r in body["data"]["cosign_results"]} == {"复核同意"}


def test_a_signed_cosign_opinion_cannot_be_taken_back(api, rt, cosign_case):
    instance_id = cosign_case
    forestry = cosign_items(api, rt, instance_id)["林业局"]
    api.complete(forestry, {"decision": "agree", "opinion": "同意"})
    before = snapshot(api, instance_id)
    assert not offered(rt, forestry["id"], "admin")
    error = refused(rt, OperationRefused, "take_back", forestry["id"], "admin")
    assert "会签" in error.message
    assert snapshot(api, instance_id) == before
    open_one = cosign_items(api, rt, instance_id)["自然资源局"]
    refused(rt, OperationRefused, "take_back", open_one["id"], "admin")  # not done yet


@pytest.mark.parametrize(
    "mode, sequential, key",
    [
        ("most", False, "sign_mode.invalid"),
        ("ratio:1.5", False, "sign_mode.invalid"),
        ("sequential", False, "sign_mode.sequential_mismatch"),
        ("any", True, "sign_mode.sequential_mismatch"),
    ],
)
def test_a_wrong_sign_mode_is_refused_at_deployment(api, mode, sequential, key):
    document = cosign_diagram("bad_mode", mode, sequential)
    response = api.deploy(("bad_mode.bpmn", document))
    assert response.status_code == 422
    problems = response.get_json()["error"]["problems"]
    assert [p["key"] for p in problems] == [key]
    assert problems[0]["element_id"] == "sign"


def test_sign_mode_only_on_a_multi_instance_task(api):
    document = cosign_diagram("plain_mode", "any").replace(
        b"<bpmn:multiInstanceLoopCharacteristics>", b"<bpmn:documentation>"
    )
    document = (
        document.split(b"<bpmn:documentation>")[0]
        + b"</bpmn:userTask>"
        + document.split(b"</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>")[1]
    )
    response = api.deploy(("plain_mode.bpmn", document))
    assert response.status_code == 422
    assert response.get_json()["error"]["problems"][0]["key"] == "sign_mode.not_multi_instance"


def test_after_a_correction_loop_the_first_review_returns_to_the_window_steps(api, rt):
    assert api.deploy(*bundle(SHIPPED / "outdoor_ad")).status_code == 201
    instance_id = api.start("outdoor_ad").get_json()["id"]
    api.complete(api.open_items(instance_id)["Task_Intake"], INTAKE)
    first = api.open_items(instance_id)["Task_FirstReview"]
    api.complete(first, {"decision": "return", "opinion": "缺图纸", "correction_items": "效果图"})
    correction = api.open_items(instance_id)["Task_Correction"]
    api.complete(correction, {"received_on": "2026-11-21", "received_materials": "效果图"})
    second = api.open_items(instance_id)["Task_FirstReview"]
    assert targets(rt, second["id"]) == ["Task_Correction", "Task_Intake"]
    run(rt, "return_to", second["id"], "Task_Intake", "admin", "设置地点填写有误")
    intake = api.open_items(instance_id)["Task_Intake"]
    assert api.complete(intake, INTAKE).status_code == 200
    assert list(api.open_items(instance_id)) == ["Task_FirstReview"]


def test_a_step_only_in_a_newer_version_of_the_diagram_is_unknown(api, rt, split_case):
    from ..diagrams import chain, user

    instance_id = split_case
    newer = api.deploy(("branches.bpmn", chain("branches", user("precheck"), user("intake"))))
    assert newer.get_json()["processes"][0]["version"] == 2
    a1 = api.open_items(instance_id)["a1"]
    before = snapshot(api, instance_id)
    error = refused(rt, UnknownStep, "return_to", a1["id"], "precheck", "admin", "预审")
    assert "第 1 版" in error.message
    assert error.http_status == 404
    assert snapshot(api, instance_id) == before


def test_returning_the_lead_summary_disarms_its_boundary_timer(joint, rt):
    instance_id = start_and_accept(joint)
    for bpmn_id in REVIEWS:
        joint.complete(joint.open_items(instance_id)[bpmn_id], review())
    assert joint.instance(instance_id)["next_timer_at"] is not None
    lead = joint.open_items(instance_id)["Task_LeadSummary"]
    run(rt, "return_to", lead["id"], "Task_Accept", "admin", "材料需重新受理")
    body = joint.instance(instance_id)
    assert body["next_timer_at"] is None
    assert [i["bpmn_id"] for i in body["work_items"]] == ["Task_Accept"]


def test_a_partly_signed_cosign_returned_upstream_starts_a_clean_round(api, rt, cosign_case):
    instance_id = cosign_case
    signers = cosign_items(api, rt, instance_id)
    api.complete(signers["林业局"], {"decision": "agree", "opinion": "同意"})
    run(rt, "return_to", signers["自然资源局"]["id"], "Task_FirstReview", "admin", "用地待核")
    first = api.open_items(instance_id)["Task_FirstReview"]
    assert api.complete(first, {"decision": "approve", "opinion": "已核"}).status_code == 200
    body = api.instance(instance_id)
    assert body["error"] is None
    assert len(cosign_items(api, rt, instance_id)) == 3
    for item in cosign_items(api, rt, instance_id).values():
        api.complete(item, {"decision": "agree", "opinion": "第二轮同意"})
    sign = api.open_items(instance_id)["Task_Sign"]
    run(rt, "return_to", sign["id"], "Task_FirstReview", "admin", "重新初审")
    first = api.open_items(instance_id)["Task_FirstReview"]
    assert api.complete(first, {"decision": "approve", "opinion": "再审"}).status_code == 200
    assert api.instance(instance_id)["error"] is None
    assert len(cosign_items(api, rt, instance_id)) == 3


def test_the_first_review_is_taken_back_while_no_department_has_signed(api, rt, session):
    assert api.deploy(*bundle(SHIPPED / "outdoor_ad")).status_code == 201
    instance_id = api.start("outdoor_ad").get_json()["id"]
    api.complete(api.open_items(instance_id)["Task_Intake"], INTAKE)
    first = api.open_items(instance_id)["Task_FirstReview"]
    api.complete(first, {"decision": "approve", "opinion": "符合规划"})
    opened = cosign_items(api, rt, instance_id)
    assert {item_row(session, i["id"]).previous_item_id for i in opened.values()} == {first["id"]}
    run(rt, "take_back", first["id"], "admin", "会签部门选错")
    assert list(api.open_items(instance_id)) == ["Task_FirstReview"]
    assert {item_row(session, i["id"]).status for i in opened.values()} == {m.CANCELLED}
    again = api.open_items(instance_id)["Task_FirstReview"]
    assert api.complete(again, {"decision": "approve", "opinion": "重新确认"}).status_code == 200
    assert len(cosign_items(api, rt, instance_id)) == 3
