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
from SpiffWorkflow.bpmn.specs.mixins import SubWorkflowTaskMixin
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


# Attributes Camunda Modeler writes by default or for the engine's job executor; they
# change nothing SpiffWorkflow runs, so they do not make a diagram Camunda's.
HARMLESS_CAMUNDA = frozenset(
    f"{{{CAMUNDA_NS}}}{name}"
    for name in (
        "versionTag",
        "historyTimeToLive",
        "asyncBefore",
        "asyncAfter",
        "exclusive",
        "jobPriority",
        "taskPriority",
        "isStartableInTasklist",
    )
)
_FLOW_TAGS = ("task", "subProcess", "callActivity", "transaction", "adHocSubProcess")


@dataclass(frozen=True)
class DialectMarker:
    """The first element of a file that uses a dialect's extensions."""

    file: str
    element: object
    what: str  # the extension element or attribute, e.g. "camunda:formData"


def _marker_name(qualified: str) -> str | None:
    for prefix, namespace in (("camunda", CAMUNDA_NS), ("spiffworkflow", SPIFF_NS)):
        if qualified.startswith("{" + namespace + "}"):
            return f"{prefix}:{qualified.split('}', 1)[1]}"
    return None


def _is_harmless(name: str, value: str | None) -> bool:
    if name in HARMLESS_CAMUNDA:
        return True
    # a Camunda form key naming no JSON schema is a leftover we ignore
    return name == f"{{{CAMUNDA_NS}}}formKey" and not (value or "").strip().endswith(".json")


def dialect_markers(named_trees) -> dict[str, DialectMarker]:
    """For each extension dialect the BPMN trees really use, where it is first used."""
    found: dict[str, DialectMarker] = {}
    for file, tree in named_trees:
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            names = [(element.tag, None)] + [
                (n, v) for n, v in element.attrib.items() if not _is_harmless(n, v)
            ]
            for name, _value in names:
                what = _marker_name(name)
                if what is None:
                    continue
                dialect = CAMUNDA if what.startswith("camunda:") else SPIFF
                found.setdefault(dialect, DialectMarker(file, element, what))
    return found


def detect_dialect(trees) -> set[str]:
    """The extension dialects the BPMN trees actually use (harmless attributes aside)."""
    return set(dialect_markers(("", tree) for tree in trees))


def bundle_dialect(trees) -> str:
    """The parser a bundle needs: Camunda's when it uses Camunda extensions."""
    trees = list(trees)
    dialects = detect_dialect(trees)
    if CAMUNDA in dialects:
        return CAMUNDA
    if SPIFF in dialects:
        return SPIFF
    # harmless Camunda attributes only: a Camunda Modeler file without extensions
    camunda = "{" + CAMUNDA_NS + "}"
    for tree in trees:
        for element in tree.iter():
            if isinstance(element.tag, str) and any(n.startswith(camunda) for n in element.attrib):
                return CAMUNDA
    return SPIFF


def is_black_box(process) -> bool:
    """A pool drawn only as a participant: a process without any flow element."""
    for child in process:
        if not isinstance(child.tag, str) or not child.tag.startswith("{" + BPMN_NS + "}"):
            continue
        local = child.tag.split("}", 1)[1]
        if local.endswith(("Task", "Event", "Gateway")) or local in _FLOW_TAGS:
            return False
    return True


def executable_processes(trees) -> list:
    return [
        p
        for tree in trees
        for p in tree.iterfind(f".//{{{BPMN_NS}}}process")
        if p.get("isExecutable", "true") == "true" and not is_black_box(p)
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
    for process in tree.iterfind(f".//{{{BPMN_NS}}}process"):
        if is_black_box(process):
            process.set("isExecutable", "false")  # a black-box pool is never deployed
        elif mark_executable:
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
    subprocesses = subprocess_specs(parser, spec)
    external = {name for name, sub in subprocesses.items() if sub is None}
    return spec, {k: v for k, v in subprocesses.items() if v is not None}, external


def subprocess_specs(parser, spec, found: dict | None = None) -> dict:
    """Every (sub)process a spec calls, at any depth; None for a callee not in the bundle.

    SpiffWorkflow 3.2's ``get_subprocess_specs`` forgets ``require_call_activity_specs``
    when it recurses, so a call to a deployed process from an embedded subprocess or
    from an in-bundle callee raised; this walk never requires a callee.
    """
    found = {} if found is None else found
    for task_spec in spec.task_specs.values():
        name = getattr(task_spec, "spec", None)
        if not isinstance(task_spec, SubWorkflowTaskMixin) or name in found:
            continue
        found[name] = parser.get_spec(name, required=False)
        if found[name] is not None:
            subprocess_specs(parser, found[name], found)
    return found


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
