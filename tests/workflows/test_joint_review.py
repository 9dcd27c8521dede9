"""The shipped 联合审查 diagram, run through the HTTP API along every path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflows.timeutil import utcnow

from ..conftest import SHIPPED, bundle

ACCEPT = {
    "applicant_name": "张三",
    "applicant_type": "person",
    "contact_phone": "13800000000",
    "item_name": "食品经营许可",
    "business_address": "城关镇解放路 1 号",
    "accept_date": "2026-11-20",
}
REVIEWS = ("Task_DeptReview_Fire", "Task_DeptReview_Env", "Task_DeptReview_Health")


def approve(opinion="同意"):
    return {"decision": "approve", "opinion": opinion}


@pytest.fixture
def joint(api):
    response = api.deploy(*bundle(SHIPPED / "joint_review"))
    assert response.status_code == 201, response.get_json()
    return api


def start_and_accept(api) -> int:
    response = api.start("joint_review")
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    items = api.open_items(instance_id)
    assert list(items) == ["Task_Accept"]
    assert items["Task_Accept"]["lane"] == "综合窗口"
    assert items["Task_Accept"]["form"] == "accept.json"
    assert api.complete(items["Task_Accept"], ACCEPT).status_code == 200
    return instance_id


def complete_reviews(api, instance_id, decisions=None):
    decisions = decisions or {}
    for bpmn_id in REVIEWS:
        item = api.open_items(instance_id)[bpmn_id]
        data = {"decision": decisions.get(bpmn_id, "approve"), "opinion": f"{bpmn_id} 意见"}
        assert api.complete(item, data).status_code == 200


def test_approved_straight_through(joint):
    instance_id = start_and_accept(joint)
    items = joint.open_items(instance_id)
    assert set(items) == set(REVIEWS)
    assert {items[r]["lane"] for r in REVIEWS} == {"消防", "环保", "卫健"}
    assert items["Task_DeptReview_Fire"]["properties"]["department"]
    complete_reviews(joint, instance_id)
    lead = joint.open_items(instance_id)["Task_LeadSummary"]
    assert lead["due_at"] is not None  # the boundary timer's due time
    joint.complete(lead, approve())
    sign = joint.open_items(instance_id)["Task_LeaderSign"]
    body = joint.complete(
        sign, {"decision": "approve", "opinion": "准予许可", "sign_date": "2026-11-25"}
    ).get_json()
    assert body["status"] == "completed"
    assert body["work_items"] == []
    assert body["data"]["review_round"] == 1
    assert body["data"]["summary"].startswith("张三申请食品经营许可")
    history = joint.instance(instance_id)["history"]
    kinds = [(e["kind"], e["bpmn_id"]) for e in history]
    assert ("task_completed", "Task_Summary") in kinds  # the script task ran
    assert kinds[-1] == ("completed", None)
    completed_by = [e["actor"] for e in history if e["kind"] == "task_completed" and e["actor"]]
    assert completed_by == ["admin"] * 6


def test_correction_loops_back_to_the_window_across_the_split_and_join(joint):
    instance_id = start_and_accept(joint)
    complete_reviews(joint, instance_id, {"Task_DeptReview_Env": "return"})
    lead = joint.open_items(instance_id)["Task_LeadSummary"]
    joint.complete(
        lead, {"decision": "return", "opinion": "请补正环评材料", "correction_items": "环评报告"}
    )
    items = joint.open_items(instance_id)
    assert list(items) == ["Task_Accept"]
    joint.complete(items["Task_Accept"], ACCEPT)
    assert set(joint.open_items(instance_id)) == set(REVIEWS)
    complete_reviews(joint, instance_id)
    joint.complete(joint.open_items(instance_id)["Task_LeadSummary"], approve())
    sign = joint.open_items(instance_id)["Task_LeaderSign"]
    body = joint.complete(
        sign, {"decision": "approve", "opinion": "同意", "sign_date": "2026-11-26"}
    ).get_json()
    assert body["status"] == "completed"
    assert body["data"]["review_round"] == 2


@pytest.mark.moments
def test_boundary_timer_escalates_the_lead_summary(joint, rt):
    instance_id = start_and_accept(joint)
    complete_reviews(joint, instance_id)
    lead = joint.open_items(instance_id)["Task_LeadSummary"]
    instance = joint.instance(instance_id)
    assert instance["next_timer_at"] is not None

    assert rt.fire_due_timers(now=utcnow()) == []  # not due yet
    fired = rt.fire_due_timers(now=utcnow() + timedelta(days=2, minutes=1))
    assert [(f.instance_id, f.timers) for f in fired] == [(instance_id, ["Event_SummaryTimeout"])]

    items = joint.open_items(instance_id)
    assert list(items) == ["Task_Urge"]
    stale = joint.complete(lead, approve())
    assert stale.status_code == 409
    assert stale.get_json()["error"]["status"] == "cancelled"
    urge = items["Task_Urge"]
    joint.complete(urge, {"overdue_reason": "部门会商", "decision": "approve", "opinion": "已督办"})
    sign = joint.open_items(instance_id)["Task_LeaderSign"]
    body = joint.complete(
        sign, {"decision": "approve", "opinion": "同意", "sign_date": "2026-11-30"}
    ).get_json()
    assert body["status"] == "completed"
    assert any(e["kind"] == "timer_fired" for e in joint.instance(instance_id)["history"])


def test_timers_fire_through_the_admin_endpoint(joint, app, client):
    from ..conftest import Api, make_user

    instance_id = start_and_accept(joint)
    complete_reviews(joint, instance_id)
    clerk = Api(client, make_user(app, "clerk2"))
    assert clerk.post("/api/v1/timers/fire").status_code == 403
    response = joint.post("/api/v1/timers/fire")
    assert response.status_code == 200
    assert response.get_json() == {"fired": []}  # the 2-day timer is not due


def test_reviewers_see_what_each_department_decided(joint, rt):
    """Parallel branches merge by what each changed, not by who finished last.

    Completed through the runtime: people (the API) may send only the form's fields."""
    instance_id = start_and_accept(joint)
    items = joint.open_items(instance_id)
    for bpmn_id, note in (
        ("Task_DeptReview_Health", {"health_note": "x"}),
        ("Task_DeptReview_Fire", {"fire_note": "y"}),
        ("Task_DeptReview_Env", {"env_note": "z"}),
    ):
        item = items[bpmn_id]
        data = {"decision": "approve", "opinion": "同意", **note}
        rt.complete(item["id"], data, item["version"], "admin")
        rt.session.commit()
    data = joint.instance(instance_id)["data"]
    assert {data["health_note"], data["fire_note"], data["env_note"]} == {"x", "y", "z"}
