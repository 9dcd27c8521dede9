"""From BPMN/DMN source files to SpiffWorkflow specs.

The same code reads a bundle at deploy time and at run time, so a stored
definition always turns into the same specs: parse safely, normalise the
expressions other modelers write, then hand the trees to the dialect's parser.
Parsed specs are immutable and shared between workflows and threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .expressions import normalize_condition, normalize_timer
from .spiff_compat import MergingInclusiveGateway, MergingParallelGateway
from .xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}

SPIFF = "spiff"
CAMUNDA = "camunda"


# --- joins that merge what each branch changed (docs/RUNTIME.md) -------------

_JOIN_OVERRIDES = {
    full_tag("parallelGateway"): (GatewayParser, MergingParallelGateway),
    full_tag("inclusiveGateway"): (ConditionalGatewayParser, MergingInclusiveGateway),
}


class YimenSpiffParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES, **_JOIN_OVERRIDES}


class YimenCamundaParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {**CamundaParser.OVERRIDE_PARSER_CLASSES, **_JOIN_OVERRIDES}


def new_parser(dialect: str):
    return YimenCamundaParser() if dialect == CAMUNDA else YimenSpiffParser()


# --- reading source trees --------------------------------------------------


def uses_namespace(tree, namespace: str) -> bool:
    """True if any element or attribute of the tree is in the namespace."""
    prefix = "{" + namespace + "}"
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag.startswith(prefix):
            return True
        if any(name.startswith(prefix) for name in element.attrib):
            return True
    return False


def detect_dialect(trees) -> set[str]:
    """The extension dialects the BPMN trees actually use."""
    found = set()
    for tree in trees:
        if uses_namespace(tree, CAMUNDA_NS):
            found.add(CAMUNDA)
        if uses_namespace(tree, SPIFF_NS):
            found.add(SPIFF)
    return found


def executable_processes(trees) -> list:
    return [
        p
        for tree in trees
        for p in tree.iterfind(f".//{{{BPMN_NS}}}process")
        if p.get("isExecutable", "true") == "true"
    ]


def preprocess_bpmn(tree, *, mark_executable: bool) -> None:
    """Rewrite, in place, expressions SpiffWorkflow would misread."""
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for element in tree.iterfind(f".//{{{BPMN_NS}}}{tag}"):
            element.text = normalize_timer(element.text)
    for tag in ("conditionExpression", "completionCondition", "loopCardinality"):
        for element in tree.iterfind(f".//{{{BPMN_NS}}}{tag}"):
            element.text = normalize_condition(element.text)
    collection = f"{{{CAMUNDA_NS}}}collection"
    for element in tree.iter():
        if isinstance(element.tag, str) and collection in element.attrib:
            element.set(collection, normalize_condition(element.get(collection)))
    if mark_executable:
        for process in tree.iterfind(f".//{{{BPMN_NS}}}process"):
            process.set("isExecutable", "true")


def is_dmn(tree) -> bool:
    root = tree.getroot()
    return any(root.tag == f"{{{ns}}}definitions" for ns in DMN_NAMESPACES)


def is_bpmn(tree) -> bool:
    return tree.getroot().tag == f"{{{BPMN_NS}}}definitions"


# --- loading stored definitions ---------------------------------------------


@dataclass
class ProcessSpecs:
    """What a workflow needs to run: the spec and every (sub)process it calls."""

    dialect: str
    spec: object
    subprocess_specs: dict = field(default_factory=dict)
    forms: dict = field(default_factory=dict)  # user task bpmn id -> {"ref", "schema"}


def parse_sources(bpmn_trees, dmn_trees, dialect: str, mark_executable: bool):
    """A parser loaded with the (preprocessed) trees of one bundle."""
    parser = new_parser(dialect)
    for name, tree in bpmn_trees:
        preprocess_bpmn(tree, mark_executable=mark_executable)
        parser.add_bpmn_xml(tree, filename=name)
    for name, tree in dmn_trees:
        parser.add_dmn_xml(tree.getroot(), filename=name)
    return parser


def bundle_specs(parser, process_id: str) -> tuple[object, dict, set[str]]:
    """The spec of a process, its in-bundle subprocess specs, and external calls."""
    spec = parser.get_spec(process_id)
    subprocesses = parser.get_subprocess_specs(process_id, require_call_activity_specs=False)
    external = {name for name, sub in subprocesses.items() if sub is None}
    return spec, {k: v for k, v in subprocesses.items() if v is not None}, external


class SpecCache:
    """Parsed specs per definition id; definitions never change once stored."""

    def __init__(self):
        self._lock = threading.Lock()
        self._specs: dict[int, ProcessSpecs] = {}

    def get(self, definition_id: int, load_source) -> ProcessSpecs:
        """The specs of a definition; ``load_source(id)`` gives its DefinitionSource."""
        specs = self._specs.get(definition_id)
        if specs is None:
            specs = self._build(definition_id, load_source)
            with self._lock:
                specs = self._specs.setdefault(definition_id, specs)
        return specs

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()

    def _build(self, definition_id: int, load_source) -> ProcessSpecs:
        source = load_source(definition_id)
        bpmn = [(name, parse_xml(data, max_bytes=len(data) + 1)) for name, data in source.bpmn]
        dmn = [(name, parse_xml(data, max_bytes=len(data) + 1)) for name, data in source.dmn]
        mark = not executable_processes([tree for _name, tree in bpmn])
        parser = parse_sources(bpmn, dmn, source.dialect, mark_executable=mark)
        spec, subprocesses, _external = bundle_specs(parser, source.process_id)
        for called_id, called_definition in source.called_definitions.items():
            if called_id in subprocesses:
                continue
            called = self.get(int(called_definition), load_source)
            subprocesses[called_id] = called.spec
            for name, sub in called.subprocess_specs.items():
                subprocesses.setdefault(name, sub)
        return ProcessSpecs(source.dialect, spec, subprocesses, source.forms)


@dataclass
class DefinitionSource:
    dialect: str
    process_id: str
    bpmn: list[tuple[str, bytes]]
    dmn: list[tuple[str, bytes]]
    called_definitions: dict[str, int]
    forms: dict
