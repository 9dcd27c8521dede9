"""Instances and work items: conflicts, restarts, errors, returns, other modelers."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from workflows import models as m
from workflows import runtime as runtime_module
from workflows.runtime import Runtime

from ..conftest import DIAGRAMS, SHIPPED, Api, bundle, engine_of, make_user, new_app, with_forms
from ..diagrams import chain, script, user
from .test_joint_review import ACCEPT, REVIEWS, complete_reviews, start_and_accept


def test_double_submit_is_refused_and_changes_nothing(api):
    api.deploy(("two.bpmn", chain("two", user("a"), user("b"))))
    instance_id = api.start("two").get_json()["id"]
    item = api.open_items(instance_id)["a"]
    assert api.complete(item, {"x": 1}).status_code == 200
    before = api.instance(instance_id)
    again = api.complete(item, {"x": 2})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "work_item_conflict"
    assert "已办结" in error["message"]
    after = api.instance(instance_id)
    assert after["revision"] == before["revision"]
    assert after["data"]["x"] == 1
    assert [i["bpmn_id"] for i in after["work_items"]] == ["b"]


def test_form_from_an_old_version_of_the_item_is_refused(api, app, client):
    api.deploy(("two.bpmn", chain("two", user("a"), user("b"))))
    instance_id = api.start("two").get_json()["id"]
    seen = api.open_items(instance_id)["a"]
    other = Api(client, make_user(app, "other", admin=True))
    claimed = other.post(f"/api/v1/work-items/{seen['id']}/claim", {"version": seen["version"]})
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "other"
    response = api.complete(seen, {"x": 1})
    assert response.status_code == 409
    assert "other" in response.get_json()["error"]["message"]
    assert api.instance(instance_id)["revision"] == 1

    released = other.post(f"/api/v1/work-items/{seen['id']}/release")
    assert released.status_code == 200
    stale = api.complete(seen, {"x": 1})  # version 1 no longer current
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_version"] == 3
    fresh = api.open_items(instance_id)["a"]
    assert api.complete(fresh, {"x": 1}).status_code == 200


def test_claim_release_rules(api, app, client):
    api.deploy(("one.bpmn", chain("one", user("a"))))
    instance_id = api.start("one").get_json()["id"]
    item = api.open_items(instance_id)["a"]
    other = Api(client, make_user(app, "other", admin=True))
    assert api.post(f"/api/v1/work-items/{item['id']}/claim").get_json()["assignee"] == "admin"
    assert other.post(f"/api/v1/work-items/{item['id']}/claim").status_code == 409
    assert other.post(f"/api/v1/work-items/{item['id']}/release").status_code == 409
    mine = api.post(f"/api/v1/work-items/{item['id']}/claim").get_json()
    assert mine["version"] == 2  # claiming again is harmless
    assert other.complete(mine).status_code == 409
    assert api.complete(mine).get_json()["status"] == "completed"
    kinds = [e["kind"] for e in api.instance(instance_id)["history"]]
    assert kinds.count("claimed") == 1


def test_bad_data_is_refused_with_field_messages(api):
    api.deploy(*bundle(SHIPPED / "joint_review"))
    instance_id = api.start("joint_review").get_json()["id"]
    item = api.open_items(instance_id)["Task_Accept"]
    missing = api.complete(item, {"applicant_name": "张三"})
    assert missing.status_code == 422
    fields = missing.get_json()["error"]["fields"]
    assert fields["contact_phone"] == "此项为必填项"
    underscore = api.complete(item, {**ACCEPT, "_secret": 1})
    assert underscore.status_code == 422
    assert "_secret" in underscore.get_json()["error"]["fields"]
    wrong_enum = api.complete(item, {**ACCEPT, "applicant_type": "alien"})
    assert wrong_enum.get_json()["error"]["fields"] == {"applicant_type": "取值不在允许的范围内"}
    not_object = api.post(f"/api/v1/work-items/{item['id']}/complete", {"data": [1], "version": 1})
    assert not_object.status_code == 422
    no_version = api.post(f"/api/v1/work-items/{item['id']}/complete", {"data": ACCEPT})
    assert no_version.status_code == 400
    garbage = api.client.post(
        f"/api/v1/work-items/{item['id']}/complete",
        data=b"{",
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
    assert api.instance(instance_id)["revision"] == 1


def test_state_survives_a_restart_of_the_app(api, app, database_url, tmp_path):
    api.deploy(*bundle(SHIPPED / "joint_review"))
    instance_id = start_and_accept(api)
    items = api.open_items(instance_id)
    api.complete(items["Task_DeptReview_Fire"], {"decision": "approve", "opinion": "同意"})
    engine_of(app).dispose()
    runtime_module.LIVE.clear()
    runtime_module.SPECS.clear()

    second = new_app(database_url, tmp_path / "restarted")
    again = Api(second.test_client(), make_user(second, "after_restart", admin=True))
    items = again.open_items(instance_id)
    assert set(items) == {"Task_DeptReview_Env", "Task_DeptReview_Health"}
    for bpmn_id in ("Task_DeptReview_Env", "Task_DeptReview_Health"):
        again.complete(items[bpmn_id], {"decision": "approve", "opinion": "同意"})
    assert list(again.open_items(instance_id)) == ["Task_LeadSummary"]
    engine_of(second).dispose()


RETURNS = 60


def test_many_returns_keep_the_state_flat(api, session):
    """A 补正 loop across the parallel split and join, 60 times (the step time over
    such loops is measured by scripts/bench.py, not here)."""
    api.deploy(*bundle(SHIPPED / "joint_review"))
    instance_id = start_and_accept(api)
    sizes, task_counts = [], []
    for _round in range(RETURNS):
        complete_reviews(api, instance_id)
        lead = api.open_items(instance_id)["Task_LeadSummary"]
        returned = api.complete(
            lead, {"decision": "return", "opinion": "请补正", "correction_items": "营业执照"}
        )
        assert returned.status_code == 200, returned.get_json()
        assert api.complete(api.open_items(instance_id)["Task_Accept"], ACCEPT).status_code == 200
        state = session.scalar(
            select(m.InstanceState.state).where(m.InstanceState.instance_id == instance_id)
        )
        sizes.append(len(state))
        task_counts.append(len(json.loads(state)["tasks"]))
    assert max(sizes) <= sizes[0] * 1.2, (sizes[0], max(sizes))
    assert max(task_counts) == task_counts[0], task_counts
    complete_reviews(api, instance_id)
    api.complete(
        api.open_items(instance_id)["Task_LeadSummary"], {"decision": "approve", "opinion": "同意"}
    )
    sign = api.open_items(instance_id)["Task_LeaderSign"]
    body = api.complete(
        sign, {"decision": "approve", "opinion": "同意", "sign_date": "2026-12-01"}
    ).get_json()
    assert body["status"] == "completed"
    assert body["data"]["review_round"] == RETURNS + 1
    # the database still has the whole history
    completed = session.scalar(
        select(func.count())
        .select_from(m.WorkItem)
        .where(m.WorkItem.instance_id == instance_id, m.WorkItem.status == m.DONE)
    )
    assert completed == (RETURNS + 1) * 5 + 1


def test_script_error_stops_the_instance_visibly_and_retry_after_fix(api):
    broken = chain(
        "calc",
        user("enter"),
        script("compute", "total = price * count\nratio = total / zero"),
        user("check"),
    )
    api.deploy(("calc.bpmn", broken))
    instance_id = api.start("calc").get_json()["id"]
    item = api.open_items(instance_id)["enter"]
    body = api.complete(item, {"price": 3, "count": 4, "zero": 0}).get_json()
    assert body["status"] == "error"
    assert body["error"]["bpmn_id"] == "compute"
    assert body["error"]["line"] == 2
    assert "ZeroDivisionError" in body["error"]["message"]
    assert body["work_items"] == []
    assert "history" not in body  # the full history comes with GET only
    assert any(e["kind"] == "error" for e in api.instance(instance_id)["history"])

    fixed = chain(
        "calc",
        user("enter"),
        script("compute", "total = price * count\nratio = total / max(zero, 1)"),
        user("check"),
    )
    assert api.deploy(("calc.bpmn", fixed)).get_json()["processes"][0]["version"] == 2
    retried = api.post(f"/api/v1/instances/{instance_id}/retry", {"version": 2}).get_json()
    assert retried["status"] == "running"
    assert retried["version"] == 2
    assert retried["data"]["ratio"] == 12
    assert [i["bpmn_id"] for i in retried["work_items"]] == ["check"]
    assert api.post(f"/api/v1/instances/{instance_id}/retry").status_code == 409


def test_endless_loop_in_a_script_becomes_an_error_not_a_hang(api):
    api.deploy(
        (
            "spin.bpmn",
            chain("spin", user("go"), script("loop", "n = 0\nwhile True:\n    n = n + 1")),
        )
    )
    instance_id = api.start("spin").get_json()["id"]
    body = api.complete(api.open_items(instance_id)["go"]).get_json()
    assert body["status"] == "error"
    assert body["error"]["bpmn_id"] == "loop"
    assert api.get("/api/v1/processes").status_code == 200


def test_terminate_cancels_open_work(api):
    api.deploy(*bundle(SHIPPED / "joint_review"))
    instance_id = start_and_accept(api)
    open_before = api.open_items(instance_id)
    assert (
        api.post(f"/api/v1/instances/{instance_id}/terminate", {}).status_code == 409
    )  # a reason is required
    body = api.post(
        f"/api/v1/instances/{instance_id}/terminate", {"reason": "申请人撤回"}
    ).get_json()
    assert body["status"] == "terminated"
    assert body["end_reason"] == "申请人撤回"
    assert body["work_items"] == []
    refused = api.complete(
        open_before["Task_DeptReview_Fire"], {"decision": "approve", "opinion": "x"}
    )
    assert refused.status_code == 409
    cancelled = api.get(f"/api/v1/work-items?instance={instance_id}&status=cancelled").get_json()[
        "work_items"
    ]
    assert {i["bpmn_id"] for i in cancelled} == set(REVIEWS)


def test_history_is_queryable_without_the_engine(api, session):
    api.deploy(("two.bpmn", chain("two", user("a"), script("s", "y = x * 2"), user("b"))))
    instance_id = api.start("two", {"x": 1}).get_json()["id"]
    api.complete(api.open_items(instance_id)["a"], {"x": 5})
    runtime_module.LIVE.clear()
    history = Runtime(session).history(instance_id)
    assert [
        (e.kind, e.bpmn_id, e.actor) for e in history if e.kind in ("started", "task_completed")
    ] == [
        ("started", None, "admin"),
        ("task_completed", "start", None),
        ("task_completed", "a", "admin"),
        ("task_completed", "s", None),
    ]
    completed = [e for e in history if e.kind == "task_completed" and e.actor]
    assert completed[0].data == {"x": 5}


def test_camunda_modeler_diagram_deploys_and_runs(api):
    response = api.deploy(DIAGRAMS / "camunda_modeler.bpmn")
    assert response.status_code == 201, response.get_json()
    process_id = response.get_json()["processes"][0]["id"]
    instance_id = api.start(process_id).get_json()["id"]
    items = api.open_items(instance_id)
    first = next(iter(items.values()))
    detail = api.get(f"/api/v1/work-items/{first['id']}").get_json()
    assert detail["form"] == "camunda:formData"
    assert detail["form_schema"]["required"]
    missing = api.complete(first, {})
    assert missing.status_code == 422


def test_bpmn_io_diagram_deploys_and_runs(api):
    response = api.deploy(DIAGRAMS / "bpmnio_plain.bpmn")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["warnings"][0]["key"] == "process.not_executable"
    process_id = response.get_json()["processes"][0]["id"]
    instance_id = api.start(process_id).get_json()["id"]
    assert api.open_items(instance_id)


def test_multi_instance_signers_each_get_a_work_item(api):
    assert api.deploy(*with_forms(DIAGRAMS / "multi_instance.bpmn")).status_code == 201
    instance_id = api.start("multi_instance").get_json()["id"]
    items = api.instance(instance_id)["work_items"]
    assert [i["bpmn_id"] for i in items] == ["Task_Countersign"] * 3
    for n, item in enumerate(items):
        response = api.complete(item, {"decision": "approve", "opinion": f"第{n}位同意"})
        assert response.status_code == 200, response.get_json()
    body = api.instance(instance_id)
    assert body["status"] == "completed"
    assert len(body["data"]["sign_results"]) == 3


def test_decision_table_runs_in_the_sandbox(api):
    files = [*with_forms(DIAGRAMS / "decision.bpmn"), DIAGRAMS / "fee.dmn"]
    assert api.deploy(*files).status_code == 201
    instance_id = api.start("decision").get_json()["id"]
    enter = api.open_items(instance_id)["Task_EnterArea"]
    assert api.complete(enter, {"applicant_name": "赵六", "area": 250}).status_code == 200
    assert api.instance(instance_id)["data"]["fee"] == 500


def test_a_loop_without_any_wait_is_stopped_not_run_forever(api):
    loop = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        b'<bpmn:process id="spin_engine" isExecutable="true">'
        b'<bpmn:startEvent id="start"/>'
        b'<bpmn:scriptTask id="inc"><bpmn:script>n = n + 1 if "n" in data_keys else 1</bpmn:script></bpmn:scriptTask>'
        b'<bpmn:exclusiveGateway id="gw" default="back"/>'
        b'<bpmn:endEvent id="end"/>'
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inc"/>'
        b'<bpmn:sequenceFlow id="f2" sourceRef="inc" targetRef="gw"/>'
        b'<bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="inc"/>'
        b'<bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">'
        b"<bpmn:conditionExpression>n &lt; 0</bpmn:conditionExpression></bpmn:sequenceFlow>"
        b"</bpmn:process></bpmn:definitions>"
    )
    assert api.deploy(("loop.bpmn", loop)).status_code == 201
    response = api.start("spin_engine", {"n": 0, "data_keys": ["n"]})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "error", body["data"]
    assert "无限循环" in body["error"]["message"]
    assert api.get("/api/v1/processes").status_code == 200


def test_the_sandbox_is_attached_again_after_a_restore(api):
    api.deploy(
        ("pow.bpmn", chain("pow", user("enter"), script("grow", "y = 2 ** n"), user("after")))
    )
    instance_id = api.start("pow").get_json()["id"]
    item = api.open_items(instance_id)["enter"]
    runtime_module.LIVE.clear()  # the next step restores the workflow from the database
    body = api.complete(item, {"n": 1_000_000}).get_json()
    assert body["status"] == "error"
    assert body["error"]["bpmn_id"] == "grow"
    assert "sandbox" in body["error"]["message"]
