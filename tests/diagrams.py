"""Small BPMN documents written inline by tests (no layout: engines do not need one)."""

from __future__ import annotations

import itertools

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">\n'
)


def chain(process_id: str, *steps: str, name: str | None = None) -> bytes:
    """A process start -> steps... -> end, each step a BPMN element string with an id.

    Steps are given as XML snippets; flows are drawn between them in order.
    """
    ids = ["start"] + [_id_of(s) for s in steps] + ["end"]
    flows = "\n".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(ids))
    )
    body = "\n".join(steps)
    label = f' name="{name}"' if name else ""
    xml = (
        HEADER.format(pid=process_id)
        + f'<bpmn:process id="{process_id}"{label} isExecutable="true">\n'
        + '<bpmn:startEvent id="start"/>\n'
        + body
        + '\n<bpmn:endEvent id="end"/>\n'
        + flows
        + "\n</bpmn:process>\n</bpmn:definitions>\n"
    )
    return xml.encode("utf-8")


def _id_of(snippet: str) -> str:
    return snippet.split('id="', 1)[1].split('"', 1)[0]


def user(
    task_id: str, name: str | None = None, lane_props: dict | None = None, form: str | None = None
) -> str:
    ext = ""
    if lane_props or form:
        props = "".join(
            f'<spiffworkflow:property name="{k}" value="{v}"/>'
            for k, v in (lane_props or {}).items()
        )
        props = f"<spiffworkflow:properties>{props}</spiffworkflow:properties>" if props else ""
        form_ref = (
            f"<spiffworkflow:formJsonSchemaFilename>{form}</spiffworkflow:formJsonSchemaFilename>"
            if form
            else ""
        )
        ext = f"<bpmn:extensionElements>{props}{form_ref}</bpmn:extensionElements>"
    return f'<bpmn:userTask id="{task_id}" name="{name or task_id}">{ext}</bpmn:userTask>'


def script(task_id: str, code: str) -> str:
    code = code.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<bpmn:scriptTask id="{task_id}" name="{task_id}"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def timer_catch(event_id: str, duration: str) -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{event_id}" name="{event_id}"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


def call(task_id: str, called: str) -> str:
    return f'<bpmn:callActivity id="{task_id}" name="{task_id}" calledElement="{called}"/>'


def laned(process_id: str, *steps: tuple[str, str]) -> bytes:
    """Like ``chain``, with each step placed in the named lane: ``(lane, step_xml)``."""
    document = chain(process_id, *(step for _lane, step in steps)).decode("utf-8")
    lanes: dict[str, list[str]] = {}
    for lane, step in steps:
        lanes.setdefault(lane, []).append(_id_of(step))
    lane_xml = "".join(
        f'<bpmn:lane id="Lane_{n}" name="{name}">'
        + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
        + "</bpmn:lane>"
        for n, (name, refs) in enumerate(lanes.items())
    )
    marker = 'isExecutable="true">\n'
    return document.replace(
        marker, marker + f'<bpmn:laneSet id="LaneSet_1">{lane_xml}</bpmn:laneSet>\n', 1
    ).encode()
