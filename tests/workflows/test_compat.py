"""Diagrams drawn with other modelers (SpiffArena, Camunda Modeler, bpmn.io) deploy correctly."""

from __future__ import annotations

import pytest

from ..conftest import DIAGRAMS, with_forms
from ..diagrams import call, chain, user
from .test_deployments import problems_of


def line_of(path_or_text, needle: str) -> int:
    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text("utf-8")
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def deploy_child(api):
    response = api.deploy(*with_forms(DIAGRAMS / "call_child.bpmn"))
    assert response.status_code == 201, response.get_json()


def review_child(api, instance_id: int) -> dict:
    review = api.open_items(instance_id)["Task_ChildReview"]
    body = api.complete(review, {"decision": "approve", "opinion": "同意"}).get_json()
    assert body["status"] == "completed", body
    return body["data"]


# --- SpiffArena form references ---------------------------------------------------


def test_spiffarena_form_property_attaches_the_form_and_a_missing_file_is_refused(api):
    diagram = DIAGRAMS / "spiffarena_form_property.bpmn"
    assert with_forms(diagram)[1:] == [DIAGRAMS / "review-schema.json"]

    problems = problems_of(api.deploy(diagram))
    missing = [p for p in problems if p["key"] == "form.missing"]
    assert missing and missing[0]["file"] == diagram.name
    assert missing[0]["element_id"] == "Activity_0cxm4kd"
    assert missing[0]["line"] == line_of(diagram, 'id="Activity_0cxm4kd"')
    assert "review-schema.json" in missing[0]["message"]

    # the ui schema (SpiffArena's layout hints) is accepted and ignored, with or without its file
    response = api.deploy(diagram, DIAGRAMS / "review-schema.json")
    assert response.status_code == 201, response.get_json()
    both = api.deploy(diagram, DIAGRAMS / "review-schema.json", DIAGRAMS / "review-uischema.json")
    assert both.status_code == 201, both.get_json()

    instance_id = api.start("spiff_form_property").get_json()["id"]
    item = api.open_items(instance_id)["Activity_0cxm4kd"]
    shown = api.get(f"/api/v1/work-items/{item['id']}").get_json()
    assert shown["form_schema"]["title"] == "审核"
    refused = api.complete(item, {"opinion": "没有结论"})
    assert refused.status_code == 422, refused.get_json()
    body = api.complete(item, {"decision": "approve"}).get_json()
    assert body["status"] == "completed" and body["data"]["result"] == "approve"


# --- call activities below the top level -------------------------------------------


def test_a_call_inside_an_embedded_subprocess_reaches_a_deployed_process(api, session):
    from workflows import models as m

    diagram = DIAGRAMS / "spiffarena_nested_call.bpmn"
    problems = problems_of(api.deploy(diagram))
    assert [p["key"] for p in problems] == ["call.unresolved"]
    assert problems[0]["file"] == diagram.name
    assert problems[0]["element_id"] == "Activity_1u6r4ne"
    assert problems[0]["line"] == line_of(diagram, 'id="Activity_1u6r4ne"')
    assert "call_child" in problems[0]["message"] and "没有部署过" in problems[0]["message"]

    deploy_child(api)
    response = api.deploy(diagram)
    assert response.status_code == 201, response.get_json()
    child = session.query(m.ProcessDefinition).filter_by(process_id="call_child").one()
    parent = session.query(m.ProcessDefinition).filter_by(process_id="nested_call").one()
    assert parent.called_definitions == {"call_child": child.id}

    instance_id = api.start("nested_call").get_json()["id"]
    assert review_child(api, instance_id)["result"] == "approve"


def test_a_second_level_call_pins_the_deployed_callee(api, session):
    from workflows import models as m

    outer = chain("two_outer", user("ask", "申请"), call("c_inner", "two_inner"), name="外层")
    inner = chain("two_inner", call("c_child", "call_child"), name="内层")
    problems = problems_of(api.deploy(("outer.bpmn", outer), ("inner.bpmn", inner)))
    assert [(p["key"], p["file"], p["element_id"]) for p in problems] == [
        ("call.unresolved", "inner.bpmn", "c_child")
    ]

    deploy_child(api)
    response = api.deploy(("outer.bpmn", outer), ("inner.bpmn", inner))
    assert response.status_code == 201, response.get_json()
    child = session.query(m.ProcessDefinition).filter_by(process_id="call_child").one()
    for process_id in ("two_outer", "two_inner"):
        definition = session.query(m.ProcessDefinition).filter_by(process_id=process_id).one()
        assert definition.called_definitions == {"call_child": child.id}

    instance_id = api.start("two_outer").get_json()["id"]
    api.complete(api.open_items(instance_id)["ask"])
    assert review_child(api, instance_id)["child_result"] == "通过"


# --- dialects -----------------------------------------------------------------------


def test_harmless_camunda_attributes_do_not_make_a_spiffarena_diagram_mixed(api, session):
    from workflows import models as m

    diagram = DIAGRAMS / "camunda_then_spiffarena.bpmn"
    response = api.deploy(diagram, DIAGRAMS / "review-schema.json")
    assert response.status_code == 201, response.get_json()
    deployment = session.get(m.Deployment, response.get_json()["deployment"])
    assert deployment.dialect == "spiff"
    definition = session.query(m.ProcessDefinition).filter_by(process_id="camunda_then_spiff").one()
    assert definition.forms["Activity_1g5n0qe"]["ref"] == "review-schema.json"


def test_a_truly_mixed_bundle_is_refused_naming_where_each_dialect_starts(api):
    camunda, spiff = DIAGRAMS / "camunda_modeler.bpmn", DIAGRAMS / "camunda_then_spiffarena.bpmn"
    problems = problems_of(api.deploy(camunda, spiff, DIAGRAMS / "review-schema.json"))
    mixed = next(p for p in problems if p["key"] == "bundle.mixed_dialects")
    # the first Camunda extension there: camunda:candidateGroups on the first user task
    first_camunda = line_of(camunda, 'id="Activity_0k7x2mf"')
    assert mixed["file"] == camunda.name and mixed["line"] == first_camunda
    message = mixed["message"]
    assert (
        f"camunda_modeler.bpmn 第 {first_camunda} 行元素 Activity_0k7x2mf（camunda:candidateGroups）"
        in message
    )
    spiff_line = line_of(spiff, "<spiffworkflow:properties>")
    assert f"camunda_then_spiffarena.bpmn 第 {spiff_line} 行元素 Activity_1g5n0qe" in message


# --- pools of other participants ---------------------------------------------------------


def test_a_black_box_pool_is_neither_linted_nor_deployed(api):
    response = api.deploy(DIAGRAMS / "bpmnio_collaboration.bpmn")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [p["id"] for p in body["processes"]] == ["Process_1"]
    assert {w["key"] for w in body["warnings"]} == {"process.not_executable"}
    instance_id = api.start("Process_1").get_json()["id"]
    assert list(api.open_items(instance_id)) == ["Activity_0z5b8kc"]

    # the center's pool made executable, the applicant's left a black box
    text = (DIAGRAMS / "bpmnio_collaboration.bpmn").read_text("utf-8")
    executable = text.replace(
        'id="Process_1" isExecutable="false"', 'id="Process_1" isExecutable="true"'
    )
    response = api.deploy(("executable.bpmn", executable.encode()))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["warnings"] == []
    assert [p["id"] for p in response.get_json()["processes"]] == ["Process_1"]


# --- decision tables ---------------------------------------------------------------------


def decision_bundle(dmn: str) -> list:
    return [*with_forms(DIAGRAMS / "decision.bpmn"), ("fee.dmn", dmn.encode("utf-8"))]


def test_dmn_cells_are_checked_by_the_sandbox_at_deploy(api):
    source = (DIAGRAMS / "fee.dmn").read_text("utf-8")
    hostile = source.replace(
        "<text>200</text>", "<text>__import__('os').system('id')</text>", 1
    ).replace("<text>&gt;= 500</text>", "<text>&gt;= ().__class__.__base__</text>", 1)
    problems = problems_of(api.deploy(*decision_bundle(hostile)))
    found = {p["element_id"]: p for p in problems if p["key"] == "script.forbidden"}
    assert set(found) == {"LiteralExpression_Small", "UnaryTests_Large"}
    assert found["LiteralExpression_Small"]["file"] == "fee.dmn"
    assert found["LiteralExpression_Small"]["line"] == line_of(hostile, "__import__")
    assert found["UnaryTests_Large"]["line"] == line_of(hostile, "__class__")
    assert "决策表" in found["UnaryTests_Large"]["message"]

    assert api.deploy(*decision_bundle(source)).status_code == 201


def test_a_feel_only_cell_gets_an_answer_not_a_crash(api):
    feel = (
        (DIAGRAMS / "fee.dmn")
        .read_text("utf-8")
        .replace("<text>100 &lt;= ? &lt; 500</text>", "<text>[100..500)</text>", 1)
    )
    response = api.deploy(*decision_bundle(feel))
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        problem = problems_of(response)[0]
        assert (problem["file"], problem["element_id"]) == ("fee.dmn", "UnaryTests_Medium")


# --- the same process id for unrelated diagrams ----------------------------------------


def test_an_unrelated_diagram_with_a_taken_process_id_deploys_with_a_warning(api):
    assert api.deploy(DIAGRAMS / "bpmnio_plain.bpmn").status_code == 201
    response = api.deploy(DIAGRAMS / "bpmnio_collaboration.bpmn")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["processes"][0]["version"] == 2
    reused = [w for w in body["warnings"] if w["key"] == "process.id_reused"]
    assert len(reused) == 1 and reused[0]["element_id"] == "Process_1"
    assert reused[0]["message"].startswith("流程 ID Process_1 已被另一张图（名称")
    assert "本次部署会成为它的新版本：是否替换了一张无关的图？" in reused[0]["message"]


@pytest.mark.parametrize("renamed", [False, True])
def test_a_new_version_of_the_same_diagram_gets_no_such_warning_unless_renamed(api, renamed):
    assert api.deploy(("leave.bpmn", chain("leave", user("ask"), name="请假"))).status_code == 201
    changed = chain("leave", user("ask"), user("approve"), name="销假" if renamed else "请假")
    body = api.deploy(("leave.bpmn", changed)).get_json()
    keys = {w["key"] for w in body["warnings"]}
    assert ("process.id_reused" in keys) is renamed


# --- documentation that quotes HTML -------------------------------------------------------


def test_a_doctype_quoted_in_documentation_deploys_and_a_real_one_does_not(api):
    plain = (DIAGRAMS / "bpmnio_plain.bpmn").read_text(encoding="utf-8")
    start = '<bpmn:startEvent id="StartEvent_1" name="提交申请">'
    quoted = plain.replace(
        start,
        start
        + "<bpmn:documentation><![CDATA[<!DOCTYPE html><p>办事指南</p>]]></bpmn:documentation>",
    )
    response = api.deploy(("quoted.bpmn", quoted.encode()))
    assert response.status_code == 201, response.get_json()
    real = plain.replace("<bpmn:definitions", "<!DOCTYPE d>\n<bpmn:definitions", 1)
    problems = problems_of(api.deploy(("real.bpmn", real.encode())))
    assert [(p["key"], p["line"]) for p in problems] == [("xml.doctype_forbidden", 2)]
