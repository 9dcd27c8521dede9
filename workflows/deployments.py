"""Deploying bundles: validate everything, then store a new version of each process.

A bundle is one or more ``.bpmn`` files, optional ``.dmn`` decision tables and
optional ``.json`` form schemas. Every problem found is reported with its file,
line and element id, in Chinese for the designer and with an English key for
programs; a bundle with any error is rejected whole and nothing is stored.
"""

from __future__ import annotations

import ast
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field

import jsonschema
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import func, select

from .errors import DeploymentInvalid, Problem
from .expressions import (
    declared_language,
    foreign_language,
    is_iso_timer_literal,
    normalize_condition,
    normalize_timer,
    unsupported_language_message,
)
from .forms import MAX_JSON_DEPTH, json_problem
from .message_checks import check_message_tasks, check_senders
from .models import Deployment, DeploymentFile, ProcessDefinition
from .sandbox import SandboxViolation, check_expression, check_script
from .specs import (
    BPMN_NS,
    CAMUNDA,
    CAMUNDA_NS,
    SPIFF,
    SPIFF_NS,
    bundle_dialect,
    bundle_specs,
    dialect_markers,
    executable_processes,
    is_black_box,
    is_bpmn,
    is_dmn,
    parse_sources,
)
from .steps import parse_sign_mode
from .xmlsafe import DEFAULT_MAX_BYTES, XmlRejected, parse_xml

MAX_FILES = 50
MAX_JSON_BYTES = 512 * 1024
_ISO_LOOKALIKE = re.compile(r"^(P|R\d*/)[0-9A-Z.,:/-]*$")
KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "form", ".xml": "bpmn"}


def _q(tag: str, ns: str = BPMN_NS) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class UploadedFile:
    name: str
    content: bytes


@dataclass
class ParsedProcess:
    process_id: str
    name: str | None
    file: str
    external_calls: set[str]
    forms: dict[str, dict]


@dataclass
class Analysis:
    """What validation found: the problems, and what would be deployed."""

    problems: list[Problem] = field(default_factory=list)
    dialect: str = SPIFF
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, kind, content
    processes: list[ParsedProcess] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass
class DeployResult:
    deployment: Deployment
    definitions: list[ProcessDefinition]
    created: bool
    warnings: list[Problem]


def bundle_sha256(files: list[UploadedFile]) -> str:
    """A bundle's identity: its file names and contents, in name order."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f.name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(f.content).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


class _Checker:
    """Collects the problems of one bundle."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.current_file = ""
        self.invalid_forms: set[str] = set()

    def add(
        self,
        key,
        message,
        element=None,
        *,
        line=None,
        element_id=None,
        severity="error",
        detail=None,
    ):
        if element is not None:
            line = line or element.sourceline
            owner = element
            while owner is not None and not owner.get("id"):
                owner = owner.getparent()
            element_id = element_id or (owner.get("id") if owner is not None else None)
        self.analysis.problems.append(
            Problem(self.current_file, line, element_id, key, message, severity, detail)
        )

    def expression(self, element, text, *, script=False, what="表达式", timer=False):
        if text is None or not text.strip():
            return
        language = declared_language(_language_attribute(element))
        if language is not None:
            self.add(
                "expression.unsupported_language", unsupported_language_message(language), element
            )
            return
        try:
            (check_script if script else check_expression)(text)
        except SyntaxError as exc:
            line = (element.sourceline or 0) + max((exc.lineno or 1) - 1, 0)
            language = foreign_language(text)
            if language is not None and (timer or language != "cron"):
                self.add(
                    "expression.unsupported_language",
                    unsupported_language_message(language),
                    element,
                    line=line,
                    detail=f"SyntaxError: {exc.msg}",
                )
                return
            self.add(
                "script.syntax",
                f"{what}语法错误：{exc.msg}（{text.strip()[:80]}）",
                element,
                line=line,
            )
        except SandboxViolation as exc:
            line = (element.sourceline or 0) + max((getattr(exc, "lineno", 1) or 1) - 1, 0)
            self.add("script.forbidden", f"{what}使用了不允许的写法：{exc}", element, line=line)


def _language_attribute(element) -> str | None:
    """``language`` of an expression, or ``scriptFormat`` of the script task holding a script."""
    parent = element.getparent()
    own = element.get("language")
    return own or (parent.get("scriptFormat") if parent is not None else None)


# --- file level --------------------------------------------------------------


def _read_files(files: list[UploadedFile], check: _Checker, max_bytes: int):
    bpmn, dmn, forms = [], [], {}
    if not files:
        check.add("bundle.empty", "没有上传任何文件。")
    if len(files) > MAX_FILES:
        check.add("bundle.too_many_files", f"一次最多上传 {MAX_FILES} 个文件。")
        return bpmn, dmn, forms
    seen = set()
    for upload in files:
        name = posixpath.basename(upload.name.replace("\\", "/")) or "unnamed"
        check.current_file = name
        kind = KINDS.get(posixpath.splitext(name.lower())[1])
        if name in seen:
            check.add("file.duplicate_name", f"文件名重复：{name}。")
            continue
        seen.add(name)
        if kind is None:
            check.add("file.unknown_type", "只接受 .bpmn、.dmn 和表单 .json 文件。")
            continue
        check.analysis.files.append((name, kind, upload.content))
        if kind == "form":
            schema = _read_form(upload.content, check)
            if schema is None:
                check.invalid_forms.add(name)
            else:
                forms[name] = schema
            continue
        try:
            tree = parse_xml(upload.content, max_bytes=max_bytes)
        except XmlRejected as exc:
            check.add(exc.key, exc.message, line=exc.line)
            continue
        if is_bpmn(tree):
            bpmn.append((name, tree))
        elif is_dmn(tree):
            dmn.append((name, tree))
            check.analysis.files[-1] = (name, "dmn", upload.content)
        else:
            check.add(
                "xml.not_bpmn", "不是 BPMN 2.0 或 DMN 文件（根元素不是 definitions）。", line=1
            )
    return bpmn, dmn, forms


def _read_form(content: bytes, check: _Checker):
    if len(content) > MAX_JSON_BYTES:
        check.add("file.too_large", f"表单文件超过 {MAX_JSON_BYTES} 字节。")
        return None
    try:
        schema = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        check.add("json.syntax", f"表单不是合法的 JSON：{exc}", line=line)
        return None
    except RecursionError:
        check.add("json.syntax", f"表单 JSON 嵌套超过 {MAX_JSON_DEPTH} 层。", line=1)
        return None
    problem = json_problem(schema)
    if problem:
        check.add("json.syntax", f"表单 JSON {problem}", line=1)
        return None
    if not isinstance(schema, dict):
        check.add("form.invalid_schema", "表单必须是一个 JSON Schema 对象。", line=1)
        return None
    dynamic = _dynamic_options(schema)
    if dynamic:
        check.add(
            "form.dynamic_options",
            f"表单使用了 SpiffArena 的动态选项“{dynamic}”（选项取自流程数据），一门暂不支持："
            "请把选项直接写进表单（enum，或带 title 的 oneOf）。",
            line=1,
        )
        return None
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        check.add("form.invalid_schema", f"表单不是有效的 JSON Schema：{exc.message}", line=1)
        return None
    return schema


def _dynamic_options(value) -> str | None:
    """SpiffArena's ``options_from_task_data_var:<name>`` anywhere in a form, if used."""
    if isinstance(value, str):
        return value if value.startswith("options_from_task_data_var:") else None
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    return next((found for child in children if (found := _dynamic_options(child))), None)


# --- element level -----------------------------------------------------------


def camunda_form_schema(task) -> dict | None:
    """A JSON Schema built from a Camunda Modeler ``camunda:formData``."""
    fields = task.findall(f".//{_q('formData', CAMUNDA_NS)}/{_q('formField', CAMUNDA_NS)}")
    if not fields:
        return None
    properties, required = {}, []
    for f in fields:
        prop = _camunda_field(f)
        for constraint in f.iterfind(
            f"{_q('validation', CAMUNDA_NS)}/{_q('constraint', CAMUNDA_NS)}"
        ):
            name, config = constraint.get("name"), constraint.get("config")
            if name == "required":
                required.append(f.get("id"))
            elif name == "readonly":
                prop["readOnly"] = True
            elif name in ("minlength", "maxlength") and config and config.isdigit():
                prop["minLength" if name == "minlength" else "maxLength"] = int(config)
            elif name in ("min", "max") and _is_number(config):
                prop["minimum" if name == "min" else "maximum"] = float(config)
        properties[f.get("id")] = prop
    return {"type": "object", "properties": properties, "required": required}


def _is_number(text: str | None) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _camunda_field(f) -> dict:
    kind = f.get("type", "string")
    prop: dict = {"title": f.get("label") or f.get("id")}
    if kind == "long":
        prop["type"] = "integer"
    elif kind == "boolean":
        prop["type"] = "boolean"
    elif kind == "date":
        prop.update(type="string", format="date")
    elif kind == "enum":
        prop["type"] = "string"
        prop["oneOf"] = [
            {"const": v.get("id"), "title": v.get("name") or v.get("id")}
            for v in f.iterfind(_q("value", CAMUNDA_NS))
        ]
    else:
        prop["type"] = "string"
    if f.get("defaultValue") is not None:
        prop["default"] = f.get("defaultValue")
    return prop


def form_reference(task) -> str | None:
    """The form file a user task names: SpiffArena's property, the older element, or formKey.

    SpiffArena writes ``<spiffworkflow:property name="formJsonSchemaFilename" value=…/>``;
    its sibling ``formUiSchemaFilename`` (layout hints for SpiffArena's React forms)
    is accepted and ignored: our pages lay out the JSON Schema themselves.
    """
    for prop in task.iter(_q("property", SPIFF_NS)):
        if prop.get("name") == "formJsonSchemaFilename" and (prop.get("value") or "").strip():
            return prop.get("value").strip()
    ref = task.findtext(f".//{_q('formJsonSchemaFilename', SPIFF_NS)}")
    return ref.strip() if ref and ref.strip() else task.get(_q("formKey", CAMUNDA_NS))


def _task_forms(process, forms: dict, check: _Checker) -> dict[str, dict]:
    result = {}
    for task in process.iter(_q("userTask")):
        ref = form_reference(task)
        if ref and ref.endswith(".json"):
            if ref in check.invalid_forms:
                continue
            if ref not in forms:
                check.add("form.missing", f"用户任务引用的表单文件 {ref} 不在部署包中。", task)
                continue
            result[task.get("id")] = {"ref": ref, "schema": forms[ref]}
            continue
        schema = camunda_form_schema(task)
        if schema is not None:
            result[task.get("id")] = {"ref": "camunda:formData", "schema": schema}
    return result


def _check_timer(element, check: _Checker) -> None:
    """ISO text is checked now; an expression's value is checked when the engine evaluates it."""
    text = (element.text or "").strip()
    if not text:
        check.add("timer.empty", "定时器没有填写时间表达式。", element.getparent())
        return
    if is_iso_timer_literal(text):
        _check_iso_timer(text, element, check)
        return
    if _ISO_LOOKALIKE.match(text):
        check.add(
            "timer.invalid",
            f"定时器表达式 {text} 不是有效的 ISO 8601 时间（例如 PT5M、P2D、2030-01-01T08:00:00）。"
            + _missing_t_hint(text),
            element,
        )
        return
    expression = normalize_timer(text)
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        check.expression(element, expression, what="定时器表达式", timer=True)
        return
    if isinstance(value, str) and is_iso_timer_literal(value):
        _check_iso_timer(value.strip(), element, check)
        return
    check.add(
        "timer.not_iso",
        f"定时器表达式 {text[:80]} 是常量 {type(value).__name__}，不是 ISO 8601 时间："
        "请写 PT30S（30 秒）、P2D（2 天）或 2030-01-01T08:00:00，"
        "也可写计算结果为 timedelta 或 datetime 的表达式，例如 timedelta(seconds=30)。",
        element,
    )


# A duration with hours or seconds before any T (``P1H``): the T was forgotten.
_TIME_WITHOUT_T = re.compile(r"P(?:\d+[YMWD])*\d+[HS]", re.IGNORECASE)


def _missing_t_hint(text: str) -> str:
    if _TIME_WITHOUT_T.search(text):
        return "时、分、秒之前要加 T（例如 PT1H、P1DT2H；P1M 是一个月）。"
    return ""


def _check_iso_timer(text: str, element, check: _Checker) -> None:
    try:
        if text.upper().startswith("R"):
            TimerEventDefinition.parse_iso_recurring_interval(text)
        else:
            TimerEventDefinition.parse_time_or_duration(text)
    except Exception as exc:
        check.add(
            "timer.invalid",
            f"定时器表达式 {text} 不是有效的 ISO 8601 时间。{_missing_t_hint(text)}",
            element,
            detail=f"{type(exc).__name__}: {exc}",
        )


def _check_process(process, ids: set, check: _Checker) -> None:
    if not process.findall(_q("startEvent")):
        check.add("process.no_start_event", "流程没有开始事件，请至少画一个开始事件。", process)
    for flow in process.iter(_q("sequenceFlow")):
        for ref in ("sourceRef", "targetRef"):
            if flow.get(ref) not in ids:
                check.add("flow.dangling", f"连线的 {ref} 指向不存在的元素 {flow.get(ref)}。", flow)
        condition = flow.find(_q("conditionExpression"))
        if condition is not None:
            check.expression(condition, normalize_condition(condition.text), what="条件")
    for script in process.iter(_q("script")):
        check.expression(script, script.text, script=True, what="脚本")
    for tag in ("preScript", "postScript"):
        for script in process.iter(_q(tag, SPIFF_NS)):
            check.expression(script, script.text, script=True, what="脚本")
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for timer in process.iter(_q(tag)):
            _check_timer(timer, check)
    for tag in ("completionCondition", "loopCardinality"):
        for element in process.iter(_q(tag)):
            check.expression(element, normalize_condition(element.text), what="多实例表达式")
    for task in process.iter(_q("userTask")):
        _check_sign_mode(task, check)
    for task in process.iter(_q("serviceTask")):
        check.add(
            "task.unsupported", "暂不支持服务任务（serviceTask），请改用脚本任务或用户任务。", task
        )
    for gateway in process.iter(_q("exclusiveGateway")):
        outgoing = [
            f for f in process.iter(_q("sequenceFlow")) if f.get("sourceRef") == gateway.get("id")
        ]
        if len(outgoing) > 1 and not gateway.get("default"):
            check.add(
                "gateway.no_default",
                "排他网关没有默认分支：所有条件都不成立时办件会出错停住，建议设置默认分支。",
                gateway,
                severity="warning",
            )


def _check_sign_mode(task, check: _Checker) -> None:
    """``sign_mode`` (会签 completion) belongs on a multi-instance user task and must be known."""
    properties = task.iter(_q("property", SPIFF_NS), _q("property", CAMUNDA_NS))
    modes = [p for p in properties if p.get("name") == "sign_mode"]
    if not modes:
        return
    element, value = modes[0], modes[0].get("value")
    loop = task.find(_q("multiInstanceLoopCharacteristics"))
    try:
        mode = parse_sign_mode(value)
    except ValueError:
        mode = None
    if mode is None:
        check.add(
            "sign_mode.invalid",
            f"会签方式 sign_mode 的值“{value}”无法识别：应为 all、any、sequential 或 ratio:0.6 这样的比例。",
            element,
        )
    elif loop is None:
        check.add(
            "sign_mode.not_multi_instance",
            "只有多实例（会签）用户任务才能设置 sign_mode，请先把任务设为多实例。",
            element,
        )
    elif (mode.kind == "sequential") != (loop.get("isSequential") == "true"):
        check.add(
            "sign_mode.sequential_mismatch",
            "sign_mode=sequential（依次审批）要求多实例设为顺序（isSequential），其他方式要求并行。",
            element,
        )


def _element_lines(trees) -> dict[str, tuple[str, int]]:
    where = {}
    for name, tree in trees:
        for element in tree.iter():
            if isinstance(element.tag, str) and element.get("id"):
                where.setdefault(element.get("id"), (name, element.sourceline))
    return where


def _decision_ids(dmn_trees) -> set[str]:
    return {
        element.get("id")
        for _name, tree in dmn_trees
        for element in tree.getroot()
        if isinstance(element.tag, str) and element.tag.endswith("}decision")
    }


def _check_decisions(process, decisions: set, check: _Checker) -> None:
    for task in process.iter(_q("businessRuleTask")):
        ref = task.findtext(f".//{_q('calledDecisionId', SPIFF_NS)}") or task.get(
            _q("decisionRef", CAMUNDA_NS)
        )
        if not ref:
            check.add("dmn.no_decision", "业务规则任务没有指定决策表。", task)
        elif ref.strip() not in decisions:
            check.add("dmn.decision_missing", f"决策表 {ref} 不在部署包中。", task)


_DIALECT_NAMES = {CAMUNDA: "Camunda", SPIFF: "SpiffArena（spiffworkflow）"}


def _check_dialects(bpmn, check: _Checker) -> None:
    """One bundle, one extension dialect; the refusal says where each one is used."""
    markers = dialect_markers(bpmn)
    if len(markers) < 2:
        return
    places = []
    for dialect in (CAMUNDA, SPIFF):
        marker = markers[dialect]
        owner = marker.element
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        element_id = owner.get("id") if owner is not None else marker.what
        places.append(
            f"{_DIALECT_NAMES[dialect]}：{marker.file} 第 {marker.element.sourceline} 行"
            f"元素 {element_id}（{marker.what}）"
        )
    first = markers[CAMUNDA]
    check.current_file = first.file
    check.add(
        "bundle.mixed_dialects",
        "同一部署包混用了 Camunda 与 SpiffWorkflow 扩展，请统一成一种（或分开部署）。"
        + "首次出现的位置："
        + "；".join(places)
        + "。",
        first.element,
    )
    check.current_file = ""


def _local(element) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _cell_text(element):
    """The ``<text>`` child of a DMN cell (any DMN namespace), or None."""
    for child in element:
        if _local(child) == "text":
            return child
    return None


_OUTSIDE_QUOTES_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def _input_entry_expression(entry: str, input_expression: str) -> str:
    """The Python SpiffWorkflow's DMN engine evaluates for an input cell (see DMNEngine)."""
    subject = f"({input_expression or 'value'})"
    if _OUTSIDE_QUOTES_QUESTION.search(entry):
        return _OUTSIDE_QUOTES_QUESTION.sub(subject, entry)
    try:
        compile(entry, "<dmn>", "eval")
        return f"{subject} == ({entry})"
    except (SyntaxError, ValueError):
        return f"{subject} {entry}"


def _check_decision_cells(tree, check: _Checker) -> None:
    """Every DMN cell is an expression the sandbox will run: check it like a condition."""
    for table in tree.iter():
        if _local(table) != "decisionTable":
            continue
        inputs = []
        for column in table:
            if _local(column) != "input":
                continue
            expression = next((e for e in column if _local(e) == "inputExpression"), None)
            text = _cell_text(expression) if expression is not None else None
            inputs.append((text.text or "").strip() if text is not None else "")
            if text is not None:
                check.expression(text, text.text, what="决策表输入表达式")
        for rule in table:
            if _local(rule) != "rule":
                continue
            entries = [e for e in rule if _local(e) == "inputEntry"]
            for index, entry in enumerate(entries):
                text = _cell_text(entry)
                value = (text.text or "").strip() if text is not None else ""
                if value and value != "-":
                    subject = inputs[index] if index < len(inputs) else ""
                    check.expression(
                        text, _input_entry_expression(value, subject), what="决策表条件单元格"
                    )
            for entry in rule:
                text = _cell_text(entry) if _local(entry) == "outputEntry" else None
                if text is not None:
                    check.expression(text, text.text, what="决策表输出单元格")


# --- the whole bundle --------------------------------------------------------


def analyse(session, files: list[UploadedFile], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Analysis:
    """Validate a bundle without storing anything."""
    analysis = Analysis()
    check = _Checker(analysis)
    bpmn, dmn, forms = _read_files(files, check, max_bytes)
    check.current_file = ""
    if not bpmn and not analysis.errors:
        check.add("bundle.no_process", "部署包中没有 BPMN 流程文件。")
    _check_dialects(bpmn, check)
    analysis.dialect = bundle_dialect(tree for _n, tree in bpmn)
    mark_executable = bool(bpmn) and not executable_processes(tree for _n, tree in bpmn)
    if mark_executable:
        check.add(
            "process.not_executable",
            "流程标记为不可执行（isExecutable=false，bpmn.io 的默认值），已按可执行流程部署。",
            severity="warning",
        )
    decisions = _decision_ids(dmn)
    task_forms: dict[str, dict] = {}
    for name, tree in bpmn:
        check.current_file = name
        ids = {e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
        for process in tree.iterfind(f".//{_q('process')}"):
            if is_black_box(process):
                continue  # a pool drawn for a participant outside the center
            if process.get("id") in task_forms:
                check.add("bpmn.duplicate_process", f"流程 ID {process.get('id')} 重复。", process)
            _check_process(process, ids, check)
            check_message_tasks(process, check)
            _check_decisions(process, decisions, check)
            task_forms[process.get("id")] = _task_forms(process, forms, check)
    for name, tree in dmn:
        check.current_file = name
        _check_decision_cells(tree, check)
    check.current_file = ""
    if bpmn and not task_forms and not analysis.errors:
        check.add(
            "bundle.no_process", "部署包中只有黑盒池（没有任何流程元素的池），没有可部署的流程。"
        )
    if analysis.errors:
        return analysis
    _parse_with_spiff(session, bpmn, dmn, task_forms, mark_executable, analysis, check)
    if not analysis.errors:
        check_senders(session, bpmn, check)
    return analysis


def _parse_with_spiff(session, bpmn, dmn, task_forms, mark_executable, analysis, check) -> None:
    where = _element_lines(bpmn + dmn)
    process_elements = {
        p.get("id"): (name, p) for name, tree in bpmn for p in tree.iterfind(f".//{_q('process')}")
    }
    try:
        parser = parse_sources(bpmn, dmn, analysis.dialect, mark_executable)
        process_ids = parser.get_process_ids()
        parsed = [(pid, bundle_specs(parser, pid)) for pid in process_ids]
    except ValidationException as exc:
        _spiff_problem(exc, where, check, bpmn + dmn)
        return
    except Exception as exc:  # the parser raises plain exceptions for some mistakes
        element_id = _element_named_in(str(exc), where)
        check.current_file, line = where.get(element_id, ("", None))
        check.add(
            "bpmn.parse_error",
            f"流程图无法解析：{exc}",
            line=line,
            element_id=element_id,
            detail=f"{type(exc).__name__}: {exc}",
        )
        return
    reported: set[str] = set()
    for process_id, (spec, _subs, external) in parsed:
        file, element = process_elements[process_id]
        check.current_file = file
        for called in sorted(e for e in external if _latest_definition(session, e) is None):
            if called not in reported:
                reported.add(called)
                _unresolved_call(called, bpmn, element, file, check)
        check.current_file = file
        name = element.get("name") or spec.description
        _check_id_reuse(session, process_id, name, element, check)
        analysis.processes.append(
            ParsedProcess(process_id, name, file, external, task_forms.get(process_id, {}))
        )


def _unresolved_call(called: str, bpmn, process, file: str, check: _Checker) -> None:
    """Refuse a call to a process neither in the bundle nor deployed, where it is drawn."""
    for name, tree in bpmn:
        for call in tree.iter(_q("callActivity")):
            if call.get("calledElement") == called:
                process, file = call, name
                break
        else:
            continue
        break
    check.current_file = file
    check.add(
        "call.unresolved",
        f"调用活动引用的流程 {called} 既不在部署包中，也没有部署过：请先部署它，或把它放进同一个部署包。",
        process,
    )


# Below this share of task ids in common, a new version looks like another diagram.
SHARED_TASKS_MIN = 0.5


def _activity_ids(process) -> set[str]:
    return {
        e.get("id")
        for e in process.iter()
        if isinstance(e.tag, str)
        and e.tag.startswith("{" + BPMN_NS + "}")
        and (_local(e).endswith("Task") or _local(e) in ("task", "callActivity", "subProcess"))
        and e.get("id")
    }


def _deployed_process(session, definition: ProcessDefinition):
    """The process element of a stored definition, read again from its deployment's files."""
    files = session.scalars(
        select(DeploymentFile).where(
            DeploymentFile.deployment_id == definition.deployment_id, DeploymentFile.kind == "bpmn"
        )
    )
    for stored in files:
        try:
            tree = parse_xml(stored.content, max_bytes=len(stored.content) + 1)
        except XmlRejected:
            continue
        for process in tree.iterfind(f".//{_q('process')}"):
            if process.get("id") == definition.process_id:
                return process
    return None


def task_overlap(old: set[str], new: set[str]) -> float | None:
    """Shared task ids over the smaller set's size (1.0: one contains the other).

    Versions of one diagram keep their task ids (they are its history); bpmn.io and
    Camunda Modeler give new tasks random ids (``Activity_0x1y2z3``), so two unrelated
    diagrams share next to none. None when either side has no task.
    """
    if not old or not new:
        return None
    return len(old & new) / min(len(old), len(new))


def _check_id_reuse(session, process_id: str, name: str, element, check: _Checker) -> None:
    """Warn when a deployment would make an unrelated diagram the next version of a process.

    Two signs, either enough: both versions are named and the names differ, or they
    share less than SHARED_TASKS_MIN of their task ids (see ``task_overlap``).
    """
    latest = _latest_definition(session, process_id)
    if latest is None:
        return
    old_name = latest.name if latest.name and latest.name != process_id else None
    reasons = []
    if old_name and name not in (old_name, process_id):
        reasons.append(f"名称由“{old_name}”变为“{name}”")
    old = _deployed_process(session, latest)
    old_ids, new_ids = _activity_ids(old) if old is not None else set(), _activity_ids(element)
    overlap = task_overlap(old_ids, new_ids)
    if overlap is not None and overlap < SHARED_TASKS_MIN:
        reasons.append(
            f"两张图的任务 id 只有 {len(old_ids & new_ids)} 个相同"
            f"（原图 {len(old_ids)} 个任务，本图 {len(new_ids)} 个）"
        )
    if not reasons:
        return
    check.add(
        "process.id_reused",
        f"流程 ID {process_id} 已被另一张图（名称：{old_name or '未命名'}，第 {latest.version} 版）"
        f"使用，本次部署会成为它的新版本：是否替换了一张无关的图？（{'；'.join(reasons)}）"
        "如果是另一个流程，请改用新的流程 ID 后重新上传。",
        element,
        severity="warning",
    )


# SpiffWorkflow 3.2's common validation messages: pattern, Chinese text ({0}, {1}: the groups).
_SPIFF_MESSAGES = [
    (r"Invalid Script Task\.\s+No Script Provided", "脚本任务没有填写脚本。"),
    (r"A Service Task must have an operator", "服务任务没有指定要调用的操作（operator）。"),
    (r"There is no support implemented for this task type", "不支持这种任务类型。"),
    (r"Process (\S+) is not executable", "流程 {0} 标记为不可执行。"),
    (r"No start event found", "流程没有开始事件，请至少画一个开始事件。"),
    (r"Sequential ordering for ad hoc subprocesses", "不支持顺序执行的自由子流程（ad hoc）。"),
    (
        r"Ad hoc subprocesses may not contain start or end",
        "自由子流程（ad hoc）里不能有开始或结束事件。",
    ),
    (r"Duplicate process ID: (\S+)", "流程 ID {0} 重复。"),
    (r"The process '([^']+)' was not found", "找不到流程 {0}。"),
    (r"Conditional event definition with missing condition", "条件事件没有填写条件。"),
    (
        r"Unknown Time Specification",
        "定时器没有指定时间类型（timeDuration、timeDate 或 timeCycle）。",
    ),
    (r"Time Specification Error\. (.*)", "定时器时间有误：{0}"),
    (r"Cannot resolve dataInputAssociation (\S+)", "数据输入关联 {0} 引用的数据对象不存在。"),
    (r"Cannot resolve dataOutputAssociation (\S+)", "数据输出关联 {0} 引用的数据对象不存在。"),
    (
        r"Non-default exclusive outgoing sequence flow without condition",
        "排他网关的这条出口连线没有条件：请填写条件，或把它设为默认分支。",
    ),
    (
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        "子流程必须恰好有一个开始事件，现在有 {0} 个。",
    ),
    (r"A SubWorkflow Must contain an End event", "子流程必须有结束事件。"),
    (
        r'No "calledElement" attribute for Call Activity',
        "调用活动没有填写被调用的流程（calledElement）。",
    ),
    (r"No decisions found", "DMN 文件里没有决策表。"),
    (r"Multiple decision tables are not current", "一个 DMN 文件里暂不支持多个决策表。"),
    (r"Unknown type in decision table: (.*)", "决策表里有无法识别的元素 {0}。"),
    (r"Malformed Output Expression '(.*?)'\. (.*)", "决策表输出表达式 {0} 有误：{1}"),
    (r'No DMN Diagram available with id "([^"]*)"', "找不到 ID 为 {0} 的决策表。"),
    (
        r"A loopMaximum or loopCondition must be specified",
        "循环任务必须指定最大次数（loopMaximum）或循环条件（loopCondition）。",
    ),
    (
        r"A multiinstance task must specify a cardinality or a collection",
        "多实例任务必须指定次数（loopCardinality）或集合（loopDataInputRef、camunda:collection）。",
    ),
    (
        r"A multiinstance task must specify exactly one of cardinality or loop input",
        "多实例任务只能指定次数（loopCardinality）或输入集合（loopDataInputRef）其中之一。",
    ),
    (
        r"A multiinstance task must specify a cardinality or a loop input",
        "多实例任务必须指定次数（loopCardinality）或输入集合（loopDataInputRef）。",
    ),
    (r"Data Store identifier is missing", "数据存储定义缺少 id。"),
    (r"Data Store name is missing", "数据存储定义缺少名称。"),
    (r"Data Store with name (.+?) has no implementation", "数据存储“{0}”没有实现，暂不支持。"),
    (
        r"Unsupported Catch Event",
        "不支持这种捕获事件（例如没有事件定义或定义了多种触发方式的边界事件）：请改为定时器、消息、信号或错误事件。",
    ),
    (r"Cancel Events may only be used with transactions", "取消事件只能用在事务子流程里。"),
    (
        r"Multiple outgoing flows are not supported for tasks of type",
        "这种任务不能有多条出口连线：请在它后面加一个网关来分支。",
    ),
    (r"The loop input data reference is missing", "多实例的输入集合没有在数据输入中声明。"),
    (r"The loop output data reference is missing", "多实例的输出集合没有在数据输出中声明。"),
    (r"When looking for a task spec, we found two items", "同一个 ID 对应了两个步骤。"),
    (r"Expected an? (Message|Signal|Error|Escalation|error) node", "事件引用的 {0} 定义不存在。"),
    (r"(Message|Signal|Error|Escalation|Correlation) identifier is missing", "{0} 定义缺少 id。"),
    (
        r"Correlation is missing correlation property retrieval expressions: (\S+)",
        "关联属性 {0} 没有取值表达式（correlationPropertyRetrievalExpression）："
        "请写明从消息中取哪个值来匹配办件，例如 case_number。",
    ),
    (r"Element '([^']+)': This element is not expected", "元素 {0} 不应出现在这里。"),
    (r"Element '([^']+)', attribute '([^']+)': (.*)", "元素 {0} 的属性 {1} 有误：{2}"),
]
_SPIFF_COMPILED = [(re.compile(pattern), text) for pattern, text in _SPIFF_MESSAGES]
_WORD = re.compile(r"[A-Za-z_][\w.-]*")


def spiff_message_zh(message: str) -> str:
    """A SpiffWorkflow validation message in Chinese; an unknown one behind a Chinese lead."""
    for pattern, text in _SPIFF_COMPILED:
        match = pattern.search(message)
        if match:
            return "流程图有误：" + text.format(*match.groups())
    return f"流程图有误（SpiffWorkflow 的原文见详情）：{message}"


def _element_named_in(message: str, where) -> str | None:
    """The first element id of the bundle a message mentions (when the parser gave none)."""
    return next((w for w in _WORD.findall(message) if w in where), None)


def _spiff_problem(exc: ValidationException, where, check: _Checker, trees=()) -> None:
    """A refusal of SpiffWorkflow's parser in Chinese, with file, line and element if findable."""
    full = str(exc.args[0] if exc.args else exc)
    message = full.split("\n")[0].strip()
    if spiff_message_zh(message).startswith("流程图有误（"):  # a name may span lines
        message = " ".join(full.split())
    element_id = (
        getattr(exc, "id", None)
        or _element_named_in(message, where)
        or _element_by_name(message, trees)
    )
    file, line = where.get(element_id, (getattr(exc, "file_name", "") or "", None))
    line = line or getattr(exc, "line_number", None) or getattr(exc, "sourceline", None) or None
    check.current_file = file or getattr(exc, "file_name", "") or ""
    check.add(
        "bpmn.invalid", spiff_message_zh(message), line=line, element_id=element_id, detail=message
    )


def _element_by_name(message: str, trees) -> str | None:
    """The id of the element whose (longest) name the message quotes, e.g. a data store's."""
    found, longest = None, 1
    for _file, tree in trees:
        for element in tree.iter():
            if not isinstance(element.tag, str) or not element.get("id"):
                continue
            name = " ".join((element.get("name") or "").split())
            if len(name) > longest and name in message:
                found, longest = element.get("id"), len(name)
    return found


def _latest_definition(session, process_id: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()


def latest_definition(session, process_id: str) -> ProcessDefinition | None:
    """The newest version of a process, which new instances use."""
    return _latest_definition(session, process_id)


def deploy(session, files: list[UploadedFile], *, actor: str | None = None) -> DeployResult:
    """Validate and store a bundle; identical bundles return the existing deployment."""
    sha = bundle_sha256(files)
    existing = session.scalars(select(Deployment).where(Deployment.bundle_sha256 == sha)).first()
    if existing is not None:
        return DeployResult(existing, list(existing.definitions), False, [])
    analysis = analyse(session, files)
    if analysis.errors:
        raise DeploymentInvalid(analysis.problems)
    deployment = Deployment(
        bundle_sha256=sha,
        dialect=analysis.dialect,
        created_by=actor,
        warnings=[p.to_dict() for p in analysis.warnings],
    )
    session.add(deployment)
    for name, kind, content in analysis.files:
        session.add(
            DeploymentFile(
                deployment=deployment,
                name=name,
                kind=kind,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                content=content,
            )
        )
    definitions = [_new_definition(session, deployment, p) for p in analysis.processes]
    session.flush()
    return DeployResult(deployment, definitions, True, analysis.warnings)


def _new_definition(session, deployment, parsed: ParsedProcess) -> ProcessDefinition:
    current = session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == parsed.process_id
        )
    )
    called = {name: _latest_definition(session, name).id for name in sorted(parsed.external_calls)}
    definition = ProcessDefinition(
        process_id=parsed.process_id,
        version=(current or 0) + 1,
        name=parsed.name,
        deployment=deployment,
        called_definitions=called,
        forms=parsed.forms,
    )
    session.add(definition)
    return definition
