"""Refusals in Chinese: SpiffWorkflow's validation messages translated, other languages named."""

from __future__ import annotations

from workflows.deployments import spiff_message_zh
from workflows.expressions import declared_language, foreign_language

from ..designer.test_upload_page import login, upload
from ..diagrams import HEADER, chain, script, timer_catch, user

GATEWAY = (
    HEADER.format(pid="g")
    + '<bpmn:process id="g" isExecutable="true">\n'
    + '<bpmn:startEvent id="start"/>\n'
    + '<bpmn:exclusiveGateway id="choose" default="f2"/>\n'
    + '<bpmn:userTask id="a"/>\n<bpmn:userTask id="b"/>\n<bpmn:endEvent id="end"/>\n'
    + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="choose"/>\n'
    + '<bpmn:sequenceFlow id="f1" sourceRef="choose" targetRef="a"/>\n'
    + '<bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="b"/>\n'
    + '<bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="end"/>\n'
    + '<bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="end"/>\n'
    + "</bpmn:process>\n</bpmn:definitions>\n"
)


def problems_of(response) -> list[dict]:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["problems"]


def test_spiffworkflow_refusal_is_told_in_chinese_with_line_element_and_the_original(api):
    (problem,) = problems_of(api.deploy(("g.bpmn", GATEWAY.encode())))
    assert problem["key"] == "bpmn.invalid"
    assert problem["message"] == (
        "流程图有误：排他网关的这条出口连线没有条件：请填写条件，或把它设为默认分支。"
    )
    assert "Non-default exclusive outgoing sequence flow" in problem["detail"]
    assert problem["file"] == "g.bpmn"
    line = next(n for n, text in enumerate(GATEWAY.split("\n"), 1) if 'id="f1"' in text)
    assert problem["element_id"] == "f1" and problem["line"] == line


CORRELATION_WITHOUT_EXPRESSION = (
    HEADER.format(pid="corr")
    + '<bpmn:collaboration id="c">\n<bpmn:participant id="pool" processRef="corr"/>\n'
    + '<bpmn:correlationKey name="case"><bpmn:correlationPropertyRef>case_number'
    + "</bpmn:correlationPropertyRef></bpmn:correlationKey>\n</bpmn:collaboration>\n"
    + '<bpmn:correlationProperty id="case_number" name="办件编号"/>\n'
    + '<bpmn:message id="paid" name="paid"/>\n'
    + '<bpmn:process id="corr" isExecutable="true">\n<bpmn:startEvent id="start"/>\n'
    + '<bpmn:receiveTask id="wait" messageRef="paid"/>\n<bpmn:endEvent id="end"/>\n'
    + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>\n'
    + '<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="end"/>\n'
    + "</bpmn:process>\n</bpmn:definitions>\n"
)


def test_a_correlation_without_its_retrieval_expression_is_told_in_chinese(api):
    """As SpiffArena's sample message_receive.bpmn is written: a property, no expression."""
    problems = problems_of(api.deploy(("corr.bpmn", CORRELATION_WITHOUT_EXPRESSION.encode())))
    problem = next(p for p in problems if p["key"] == "bpmn.invalid")
    assert problem["message"].startswith("流程图有误：关联属性 case_number 没有取值表达式")
    assert "retrieval expressions" in problem["detail"]
    assert problem["element_id"] == "case_number" and problem["line"]


DATA_STORE = (
    HEADER.format(pid="ds")
    + '<bpmn:dataStore id="bank" name="Bank&#10;System"/>\n'
    + '<bpmn:process id="ds" isExecutable="true">\n<bpmn:startEvent id="start"/>\n'
    + '<bpmn:dataStoreReference id="bank_ref" dataStoreRef="bank"/>\n'
    + '<bpmn:endEvent id="end"/>\n'
    + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="end"/>\n'
    + "</bpmn:process>\n</bpmn:definitions>\n"
)


def test_a_data_store_named_over_two_lines_is_found_and_told_in_chinese(api):
    """As the BPMN MIWG C.5.0 models draw a data store (SAP Signavio, ARIS, Trisotech)."""
    problems = problems_of(api.deploy(("ds.bpmn", DATA_STORE.encode())))
    problem = next(p for p in problems if p["key"] == "bpmn.invalid")
    assert problem["message"] == "流程图有误：数据存储“Bank System”没有实现，暂不支持。"
    assert problem["element_id"] == "bank" and problem["line"] == 3


def test_an_untranslated_refusal_keeps_a_chinese_lead_and_the_original():
    assert spiff_message_zh("Duplicate process ID: p1") == "流程图有误：流程 ID p1 重复。"
    assert spiff_message_zh("Something new in 3.3") == (
        "流程图有误（SpiffWorkflow 的原文见详情）：Something new in 3.3"
    )


def test_other_expression_languages_are_named_with_the_python_way(api):
    condition = (
        '<bpmn:exclusiveGateway id="choose" default="f_no"/>'
        '<bpmn:sequenceFlow id="f_yes" sourceRef="choose" targetRef="yes">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">'
        "approved</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_no" sourceRef="choose" targetRef="no"/>'
        '<bpmn:userTask id="yes"/><bpmn:userTask id="no"/>'
        '<bpmn:sequenceFlow id="f_yes_end" sourceRef="yes" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f_no_end" sourceRef="no" targetRef="end"/>'
    )
    diagram = chain(
        "langs",
        user("enter"),
        script("groovy", "def total = price * count"),
        script("js", "ok = amount === 1"),
        timer_catch("nightly", "0 0 * * *"),
        '<bpmn:task id="plain"/>',
    ).replace(b'<bpmn:endEvent id="end"/>', condition.encode() + b'<bpmn:endEvent id="end"/>')
    problems = {p["element_id"]: p for p in problems_of(api.deploy(("l.bpmn", diagram)))}
    expected = {"groovy": "Groovy", "js": "JavaScript", "nightly": "cron", "f_yes": "JavaScript"}
    for element_id, language in expected.items():
        problem = problems[element_id]
        assert problem["key"] == "expression.unsupported_language", problem
        assert problem["message"].startswith(f"不支持的表达式语言 {language}：请用 Python 写，")
        assert problem["line"]
    assert "R/P1D" in problems["nightly"]["message"]
    assert "==" in problems["js"]["message"]


def test_the_designer_reads_the_refusal_in_chinese_with_the_original_beside_it(client):
    login(client)
    html = upload(client, [("g.bpmn", GATEWAY.encode())]).get_data(as_text=True)
    assert "排他网关的这条出口连线没有条件" in html
    assert "原文：Non-default exclusive outgoing sequence flow without condition" in html


def test_languages_are_told_by_their_attribute_or_their_plain_syntax():
    assert declared_language("http://www.w3.org/1999/XPath") == "XPath"
    assert declared_language("https://www.omg.org/spec/DMN/20191111/FEEL/") == "FEEL"
    assert declared_language("python") is None and declared_language(None) is None
    assert foreign_language('if amount > 1000 then "big" else "small"') == "FEEL"
    assert foreign_language("/process/approved") == "XPath"
    assert foreign_language("0 0 * * *") == "cron"
    assert foreign_language("amount > 1000 and approved") is None
