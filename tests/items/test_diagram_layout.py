"""The shipped diagrams open laid out in bpmn.io: every element drawn, in its lane, named in Chinese."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from ..conftest import SHIPPED, SHIPPED_FOLDERS

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
}
FLOW_NODES = [
    "startEvent",
    "endEvent",
    "userTask",
    "scriptTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "intermediateCatchEvent",
    "boundaryEvent",
    "subProcess",
    "callActivity",
]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def bounds(shape) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    x, y = float(b.get("x")), float(b.get("y"))
    return x, y, x + float(b.get("width")), y + float(b.get("height"))


def inside(inner, outer) -> bool:
    return (
        inner[0] >= outer[0] - 1
        and inner[1] >= outer[1] - 1
        and inner[2] <= outer[2] + 1
        and inner[3] <= outer[3] + 1
    )


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("folder", SHIPPED_FOLDERS)
def test_every_element_is_drawn_in_its_lane_without_overlap(folder):
    tree = etree.parse(str(SHIPPED / folder / f"{folder}.bpmn"))
    shapes = {s.get("bpmnElement"): s for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    process = tree.find(".//bpmn:process", NS)
    nodes = [
        n
        for kind in FLOW_NODES
        for n in process.iterfind(f"bpmn:{kind}", NS)  # top level of the process
    ]
    assert nodes
    for node in nodes:
        assert node.get("id") in shapes, (folder, node.get("id"))
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges, (folder, flow.get("id"))

    lanes = list(tree.iterfind(".//bpmn:lane", NS))
    assert lanes, folder  # 即办件: the window alone
    for lane in lanes:
        assert CHINESE.search(lane.get("name") or ""), (folder, lane.get("id"))
        lane_box = bounds(shapes[lane.get("id")])
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text in shapes and process.find(f"*[@id='{ref.text}']") is not None:
                node = process.find(f"*[@id='{ref.text}']")
                if etree.QName(node).localname != "boundaryEvent":
                    assert inside(bounds(shapes[ref.text]), lane_box), (folder, ref.text)
    for node in nodes:
        if etree.QName(node).localname in ("userTask", "scriptTask", "task", "callActivity"):
            assert CHINESE.search(node.get("name") or ""), (folder, node.get("id"))

    boxes = [
        (n.get("id"), bounds(shapes[n.get("id")]))
        for n in nodes
        if etree.QName(n).localname != "boundaryEvent"  # sits on its task's border
    ]
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1 :]:
            assert not overlap(a, b), (folder, first, second)
