"""The script sandbox: designer code works, hostile code is refused.

Escapes are tried in this process: each must be refused with SandboxViolation
and must not leave a marker file behind. Resource bombs run in a child
process, so a regression shows up as a failed test instead of a hung, killed
or crashed test run.
"""

from __future__ import annotations

import ast
import json
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from workflows.sandbox import (
    SandboxEnvironment,
    SandboxError,
    SandboxLimitExceeded,
    SandboxLimits,
    SandboxScriptEngine,
    SandboxViolation,
    check_expression,
    check_script,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = SandboxEnvironment()


def run(script: str, data: dict | None = None) -> dict:
    data = {} if data is None else data
    assert ENV.execute(script, data) is True
    return data


# --- ordinary designer code -------------------------------------------------------

DATA = {
    "amount": 150,
    "kind": "food",
    "names": ["bob", "ann"],
    "items": [1, 2, 3, 4],
    "prices": {"tea": 2, "rice": 5},
    "when": date(2026, 10, 1),
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("amount > 100 and kind == 'food'", True),
        ("amount * 2 + 1", 301),
        ("amount // 7, amount % 7, amount / 4", (21, 3, 37.5)),
        ("2 ** 10 + (1 << 4) - (256 >> 2)", 976),
        ("kind.upper().strip()", "FOOD"),
        ("', '.join(sorted(names))", "ann, bob"),
        ("'a-b-c'.split('-')[1:]", ["b", "c"]),
        ("'Hello'.replace('l', 'L').center(9, '*')", "**HeLLo**"),
        ("{k: v * 2 for k, v in prices.items()}", {"tea": 4, "rice": 10}),
        ("[x for x in items if x % 2]", [1, 3]),
        ("sum(x * x for x in items)", 30),
        ("max(items) - min(items)", 3),
        ("date(2026, 10, 1) + timedelta(days=3)", date(2026, 10, 4)),
        ("(when - date(2026, 9, 1)).days", 30),
        ("(datetime(2026, 1, 1, 8) - datetime(2025, 12, 31, 20)).total_seconds() / 3600", 12.0),
        ("date.fromisoformat('2026-10-01').weekday()", 3),
        ("datetime.strptime('2026-10-01', '%Y-%m-%d').date()", date(2026, 10, 1)),
        ("when.isocalendar().week", 40),
        ("Decimal('1.10') + Decimal('2.20')", Decimal("3.30")),
        ("(Decimal('10') / 3).quantize(Decimal('0.01'))", Decimal("3.33")),
        ("Decimal('1.25').as_tuple().exponent", -2),
        ("datetime.utcnow().year >= 2024", True),
        ("datetime.utcfromtimestamp(86400)", datetime(1970, 1, 2)),
        (
            "f'{amount:.2f}|{kind!r}|{kind=}|{when:%Y年%m月%d日}|{names}'",
            "150.00|'food'|kind='food'|2026年10月01日|['bob', 'ann']",
        ),
        ("'%s-%05d' % ('A', 42)", "A-00042"),
        ("'%(kind)s' % {'kind': kind}", "food"),
        ("true and not false and null is None", True),
        ("'big' if amount > 100 else 'small'", "big"),
        ("len(names) == 2 and 'bob' in names and 'eve' not in names", True),
        ("isinstance(amount, (int, float)) and isinstance(names, list)", True),
        ("round(3.14159, 2), int('42') + float('0.5'), abs(-3)", (3.14, 42.5, 3)),
        ("list(zip(items, names))", [(1, "bob"), (2, "ann")]),
        ("dict(enumerate(names, 1))", {1: "bob", 2: "ann"}),
        ("list(map(lambda n: n.title(), names))", ["Bob", "Ann"]),
        ("list(filter(None, [0, 1, '', 'a']))", [1, "a"]),
        ("(lambda x, y=2: x * y)(21)", 42),
        ("sorted(names, key=lambda n: n[-1], reverse=True)", ["ann", "bob"]),
        ("list(range(0, 10, 3)) + list(reversed(items))[:1]", [0, 3, 6, 9, 4]),
        ("sorted({3, 1} | {2})", [1, 2, 3]),
        ("(n := 5) * 2", 10),
        ("any(x > 3 for x in items) and all(x > 0 for x in items)", True),
        ("now().year >= 2024", True),
        ("items[::-1][0] + items[-1]", 8),
    ],
)
def test_expressions(expression, expected):
    assert ENV.evaluate(expression, dict(DATA)) == expected


def test_script_updates_task_data_in_place():
    data = {"amount": 150, "items": [1, 2], "kind": "food", "old": 1}
    script = (
        "first, *rest = items\n"
        "total = 0\n"
        "for i in range(3):\n"
        "    if i == 1:\n"
        "        continue\n"
        "    total += i\n"
        "while total < 10:\n"
        "    total *= 2\n"
        "items.append(3)\n"
        "items[0] += 10\n"
        "label = f'{total:03d}'\n"
        "del old\n"
        "assert total > 0, 'positive'\n"
        "print('ignored')\n"
    )
    result = run(script, data)
    assert result is data
    assert data == {
        "amount": 150,
        "items": [11, 2, 3],
        "kind": "food",
        "first": 1,
        "rest": [2],
        "total": 16,
        "i": 2,
        "label": "016",
    }


def test_non_data_values_are_dropped():
    data = run("f = lambda x: x + 1\nr = range(3)\ng = (x for x in r)\ns = {1}\nv = f(1)\n_ = 5")
    assert data == {"v": 2}


def test_augmented_subscript_evaluates_target_once():
    data = run("calls = []\nd = {'n': 1}\nkey = lambda: calls.append(1) or 'n'\nd[key()] += 1")
    assert data == {"calls": [1], "d": {"n": 2}}


def test_external_context_is_visible_but_not_stored():
    assert ENV.evaluate("dmninputexpr > 3", {}, {"dmninputexpr": 5}) is True
    assert ENV.evaluate("x", {"x": "data"}, {"x": "external"}) == "data"
    data = {"a": 1}
    ENV.execute("b = a + limit", data, {"limit": 10})
    assert data == {"a": 1, "b": 11}


def test_task_data_may_not_hide_external_names():
    with pytest.raises(ValueError, match="limit"):
        ENV.execute("b = 1", {"limit": 1}, {"limit": 10})


def test_helpers_act_like_builtins():
    env = SandboxEnvironment(
        helpers={"add_days": lambda d, n: d + timedelta(days=n), "VAT": Decimal("0.13")}
    )
    assert env.evaluate("add_days(date(2026, 1, 30), 2)", {}) == date(2026, 2, 1)
    assert env.evaluate("VAT * 100", {}) == Decimal("13.00")
    assert env.evaluate("date", {"date": "2026-01-01"}) == "2026-01-01"
    data = {}
    env.execute("x = add_days", data)
    assert data == {}


@pytest.mark.parametrize("helpers", [{"_hidden": len}, {"bad name": len}, {"mod": sys}])
def test_bad_helpers_are_rejected(helpers):
    with pytest.raises(ValueError):
        SandboxEnvironment(helpers=helpers)


def test_indented_diagram_text_is_accepted():
    assert ENV.evaluate("\n   amount > 1\n  ", {"amount": 2}) is True
    assert run("\n    x = 1\n    if x:\n        y = 2\n") == {"x": 1, "y": 2}
    with pytest.raises(SandboxViolation) as info:
        check_script("\n    x = 1\n    y = ().__class__")
    assert info.value.lineno == 3


def test_names_like_builtins_work_as_task_data():
    data = {"type": "food", "format": "pdf", "open": True}
    assert ENV.evaluate("type == 'food' and format == 'pdf' and open", data) is True


# --- checking without running ----------------------------------------------------


def test_check_reports_syntax_errors_as_syntax_errors():
    with pytest.raises(SyntaxError):
        check_expression("amount >")
    with pytest.raises(SyntaxError):
        check_expression("x = 1")
    with pytest.raises(SyntaxError):
        check_script("break")
    check_expression("  amount > 100")
    check_script("x = 1\nfor i in range(3):\n    x += i")


def test_violations_carry_line_key_and_chinese_message():
    with pytest.raises(SandboxViolation) as info:
        check_script("x = 1\ny = 2\nz = ().__class__")
    error = info.value
    assert error.lineno == 3
    assert error.key == "sandbox.forbidden_name"
    assert str(error).startswith("不允许使用以下划线开头的属性")
    assert str(error).endswith("(sandbox.forbidden_name)")
    assert isinstance(error, SandboxError)
    assert not isinstance(error, SyntaxError)


def test_engine_validate_matches_ast_parse():
    engine = SandboxScriptEngine()
    with pytest.raises(SyntaxError) as ours:
        engine.validate("> 100")
    with pytest.raises(SyntaxError) as plain:
        ast.parse("> 100")
    assert (ours.value.msg, ours.value.lineno, ours.value.offset) == (
        plain.value.msg,
        plain.value.lineno,
        plain.value.offset,
    )
    engine.validate("'food'")
    engine.validate("v > 100")
    with pytest.raises(SandboxViolation):
        engine.validate("__import__('os')")


# --- escapes ------------------------------------------------------------------------

REFUSED_BEFORE_RUNNING = [
    "__import__('os').system('touch {marker}')",
    "import os\nos.system('touch {marker}')",
    "from os import system\nsystem('touch {marker}')",
    "open('{marker}', 'w').write('x')",
    "data = open('/etc/passwd').read()",
    "ｏｐｅｎ('{marker}', 'w')",
    "_＿import＿＿('os').system('touch {marker}')",
    "ｇｅｔａｔｔｒ(1, 'real')",
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__mro__]",
    "''.__class__",
    "getattr(1, '__class__')",
    "setattr(date, 'x', 1)",
    "(x for x in []).gi_frame.f_globals",
    "(x for x in []).gi_code.co_consts",
    "g = (x for x in [])\nf = g.gi_frame.f_back",
    "(lambda: 0).__globals__",
    "(lambda: 0).__code__",
    "[].append.__self__",
    "print.__self__",
    "date.today.__func__",
    "'{0.__class__}'.format(1)",
    "'{x.__init__.__globals__}'.format_map({'x': date})",
    "format(1, 'x')",
    "repr(1)",
    "vars()",
    "globals()",
    "locals()",
    "dir()",
    "type(1)",
    "type(1).__subclasses__(type(1))",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', '', 'eval')",
    "breakpoint()",
    "help()",
    "iter([1]).__next__",
    "next(iter([1]))",
    "object()",
    "super()",
    "__builtins__",
    "x = __builtins__['open']",
    "del __builtins__",
    "date.__subclasses__()",
    "date.today().__reduce__()",
    "'abc'.encode()",
    "(1).real",
    "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame",
    "try:\n    1 / 0\nexcept Exception as e:\n    x = e.with_traceback",
    "raise SystemExit",
    "return 1",
    "yield 1",
    "nonlocal x",
    "try:\n    pass\nexcept* Exception:\n    pass",
    "def f():\n    pass",
    "class A:\n    pass",
    "lambda: (yield)",
    "global x",
    "with open('x') as f:\n    pass",
    "async def f():\n    pass",
    "match x:\n    case _:\n        pass",
    "x: int = 1",
    "x = []\nx.append = 1",
    "del date.today",
    "x = [1]\nx[0:1] = [2, 3]",
    "f'{x.__class__}'",
    "f'{1:{\"x\"}}'",
    "f'{1:>99999999999}'",
    "x = lambda __a: 0",
    "dict(__class__=1)",
    "f = lambda *args: args",
    "x = b'abc'",
    "x = 1j",
    "x = ...",
    "(x := ().__class__)",
    "assert False, ().__class__",
    "x = _ga",
    "_ga = len",
]

REFUSED_WHILE_RUNNING = [
    "str.join(',', ['a'])",
    "(lambda: 0).copy",
    "x = 1\ny = x.upper",
    "date.year",
    "isinstance(1, print)",
    "f = eval",
    "x = [type]",
    "sum([[1]], [])",
    "Decimal((0, (1,), 0))",
    "now().date().hour",
]


@pytest.mark.parametrize("source", REFUSED_BEFORE_RUNNING)
def test_escapes_are_refused_before_running(source, tmp_path):
    marker = tmp_path / "escaped"
    source = source.format(marker=marker) if "{marker}" in source else source
    with pytest.raises(SandboxViolation):
        check_script(source)
    with pytest.raises(SandboxViolation):
        run(source, {"x": 1})
    assert not marker.exists()


@pytest.mark.parametrize("source", REFUSED_WHILE_RUNNING)
def test_escapes_are_refused_while_running(source):
    check_script(source)
    with pytest.raises(SandboxViolation):
        run(source)


def test_forbidden_attribute_reports_its_line():
    with pytest.raises(SandboxViolation) as info:
        run("x = 1\ny = 2\nz = (lambda: 0).copy")
    assert info.value.lineno == 3
    assert info.value.key == "sandbox.forbidden_attribute"


def test_task_data_cannot_replace_guards():
    data = {"_ga": "not a guard", "__builtins__": {"secret": 1}, "x": "abc"}
    assert ENV.evaluate("x.upper()", data) == "ABC"
    with pytest.raises(NameError):
        ENV.evaluate("secret", data)


def test_unstorable_value_in_task_data_is_refused_and_removed():
    data = {"items": [1]}
    with pytest.raises(SandboxViolation) as info:
        run("items.append(lambda: 0)", data)
    assert info.value.key == "sandbox.unsupported_value"
    assert "items" not in data


def test_expression_results_must_be_data():
    with pytest.raises(SandboxViolation):
        ENV.evaluate("lambda: 0", {})
    with pytest.raises(SandboxViolation):
        ENV.evaluate("[x for x in range(3)].copy", {})
    assert ENV.evaluate("(1, [2], {'a': None})", {}) == (1, [2], {"a": None})


def test_exceptions_leaving_the_sandbox_are_short():
    with pytest.raises(KeyError) as info:
        run("d = {}\nk = tuple(range(10**5))\nd[k]")
    assert len(str(info.value)) < 1000


def test_service_tasks_are_refused():
    with pytest.raises(SandboxViolation):
        ENV.call_service({}, operation_name="x")


# --- resource bombs, each in a child process -------------------------------------

CHILD = """
import json, sys, time
from workflows.sandbox import SandboxEnvironment, SandboxError
source = sys.stdin.read()
start = time.monotonic()
try:
    SandboxEnvironment().execute(source, {})
    outcome = "completed"
except SandboxError as error:
    outcome = f"{type(error).__name__}:{error.key}"
except Exception as error:
    outcome = f"{type(error).__name__}:-"
print(json.dumps({"outcome": outcome, "seconds": round(time.monotonic() - start, 3)}))
"""

LIMIT = "SandboxLimitExceeded:"
BOMBS = [
    ("x = 9**9**9", LIMIT + "sandbox.int_limit"),
    ("x = 10**10**10", LIMIT + "sandbox.int_limit"),
    ("x = 2 << 10**10", LIMIT + "sandbox.int_limit"),
    ("x = 10**5000", LIMIT + "sandbox.int_limit"),
    ("x = 1\nfor i in range(10**6):\n    x += x", LIMIT + "sandbox.int_limit"),
    ("x = round(1, -10**8)", LIMIT + "sandbox.int_limit"),
    ("x = int('9' * 5000)", LIMIT + "sandbox.int_limit"),
    ("x = int('f' * 10**6, 16)", LIMIT + "sandbox.int_limit"),
    ("x = int(Decimal('1e999999'))", LIMIT + "sandbox.decimal_limit"),
    ("x = round(Decimal('1e999999'))", LIMIT + "sandbox.decimal_limit"),
    ("x = f'{Decimal(\"1e999999\"):f}'", LIMIT + "sandbox.decimal_limit"),
    ("x = '%d' % Decimal('1e999999')", LIMIT + "sandbox.decimal_limit"),
    ("x = Decimal('9' * 10**6)", LIMIT + "sandbox.decimal_limit"),
    ("x = 'x' * 10**10", LIMIT + "sandbox.size_limit"),
    ("x = [0] * 10**10", LIMIT + "sandbox.size_limit"),
    ("x = [[0] * 10**6] * 10**6", LIMIT + "sandbox.size_limit"),
    ("s = 'a'\nwhile True:\n    s += s", LIMIT + "sandbox.size_limit"),
    ("s = [0]\nwhile True:\n    s.extend(s)", LIMIT + "sandbox.size_limit"),
    ("x = list(range(10**10))", LIMIT + "sandbox.size_limit"),
    ("x = '%10000000000s' % 1", LIMIT + "sandbox.format_width"),
    ("x = '%*d' % (10**9, 1)", "SandboxViolation:sandbox.format_width"),
    ("x = ('%1000s' * 10**5) % (('',) * 10**5)", LIMIT + "sandbox.size_limit"),
    ("x = f'{1:>99999999999}'", "SandboxViolation:sandbox.format_width"),
    ("s = 'x' * 10**6\nx = f'{s}{s}'", LIMIT + "sandbox.size_limit"),
    ("s = 'x' * 10**6\nx = s.replace('', s)", LIMIT + "sandbox.size_limit"),
    ("x = '-'.join(['x' * 10**6] * 10**6)", LIMIT + "sandbox.size_limit"),
    ("x = str([['x' * 1000] * 1000] * 1000)", LIMIT + "sandbox.size_limit"),
    ("x = 'x'.center(10**10)", LIMIT + "sandbox.size_limit"),
    ("x = date(2020, 1, 1).strftime('%Y' * 10**5)", LIMIT + "sandbox.format_width"),
    ("while True:\n    pass", LIMIT + "sandbox.time_limit"),
    ("for i in range(10**6):\n    for j in range(10**6):\n        pass", LIMIT),
    ("x = sum(i for i in range(10**6) for j in range(10**6))", LIMIT),
    ("x = [[i for i in range(10**6)] for j in range(10**6)]", LIMIT),
    ("x = [[0] * 10**6 for _ in range(10**6)]", LIMIT),
    ("d = {}\nfor i in range(10**7):\n    d[i] = str(i) * 100", LIMIT),
    ("f = lambda: f()\nf()", LIMIT + "sandbox.recursion_limit"),
    ("f = lambda n: f(n - 1) + f(n - 1) if n else 1\nx = f(60)", LIMIT + "sandbox.time_limit"),
    ("a = [1]\nfor x in a:\n    a.append(x)", LIMIT),
    ("a = [1]\nx = list(map(a.append, a))", LIMIT),
    ("a = [1]\nx = any(filter(a.append, a))", LIMIT),
    ("x = [1] * 10**6\nfor i in range(500):\n    x.insert(0, 1)", LIMIT + "sandbox.work_limit"),
    ("l = list(range(10**6))\nx = (" + "-1 in l, " * 1000 + ")", LIMIT),
    ("t = ()\nfor i in range(10**6):\n    t = (t,)\ny = {t}", LIMIT + "sandbox.tuple_depth"),
    (
        "d = {'a': 0}\nfor i in range(10**6):\n    d['a'] = d.items()[0]",
        LIMIT + "sandbox.tuple_depth",
    ),
    ("x = []\nfor i in range(10**5):\n    x = [x]\ny = str(x)", LIMIT + "sandbox.recursion_limit"),
    ("g = (x for x in [1])\nfor i in range(10**5):\n    g = (x for x in g)\nx = list(g)", LIMIT),
    ("x = []\nfor i in range(1000):\n    x = [x]", LIMIT + "sandbox.data_depth"),
    ("x = ['x' * 10**5 for _ in range(200)]", LIMIT + "sandbox.data_limit"),
]


@pytest.mark.parametrize(("source", "expected"), BOMBS)
def test_bombs_end_with_a_clear_error(source, expected):
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    outcome = json.loads(child.stdout)["outcome"]
    assert outcome.startswith(expected), outcome


def test_limits_are_configurable():
    env = SandboxEnvironment(limits=SandboxLimits(time_limit=0.05, max_size=100))
    with pytest.raises(SandboxLimitExceeded) as info:
        env.execute("while True:\n    pass", {})
    assert info.value.key == "sandbox.time_limit"
    with pytest.raises(SandboxLimitExceeded):
        env.execute("x = [0] * 5000", {})


def test_budgets_are_per_call_and_per_thread():
    env = SandboxEnvironment(limits=SandboxLimits(time_limit=0.5))
    errors, results = [], []

    def spin():
        try:
            env.execute("while True:\n    pass", {})
        except SandboxLimitExceeded as error:
            errors.append(error.key)

    def work():
        for _ in range(200):
            results.append(env.evaluate("sum(x for x in range(100))", {}))

    threads = [threading.Thread(target=spin), *(threading.Thread(target=work) for _ in range(4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == ["sandbox.time_limit"]
    assert results == [4950] * 800


def test_condition_overhead_is_small():
    """Not a timed assertion: prints the cost of a typical gateway condition."""
    data = {"amount": 150, "kind": "food", "approved": True}
    expression = "amount > 100 and kind == 'food'"
    code = compile(expression, "<string>", "eval")

    def median_us(function, rounds=2000, repeats=7):
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(rounds):
                function()
            samples.append((time.perf_counter() - start) / rounds * 1e6)
        return statistics.median(samples)

    plain = median_us(lambda: eval(code, dict(data)))
    sandboxed = median_us(lambda: ENV.evaluate(expression, data))
    assert ENV.evaluate(expression, data) is eval(code, dict(data))
    print(f"\ncondition: plain eval {plain:.2f} us, sandbox {sandboxed:.2f} us")


# --- SpiffWorkflow integration --------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="prep">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:businessRuleTask id="rule">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>fee</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="gw" default="low">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>high</bpmn:outgoing><bpmn:outgoing>low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="hi">
      <bpmn:incoming>high</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = 'high'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="lo">
      <bpmn:incoming>low</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>route = 'low'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prep"/>
    <bpmn:sequenceFlow id="f2" sourceRef="prep" targetRef="rule"/>
    <bpmn:sequenceFlow id="f3" sourceRef="rule" targetRef="gw"/>
    <bpmn:sequenceFlow id="high" sourceRef="gw" targetRef="hi">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="low" sourceRef="gw" targetRef="lo"/>
    <bpmn:sequenceFlow id="f4" sourceRef="hi" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="lo" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="fee"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fee" name="fee">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_total"><inputExpression id="e_total"><text>total</text></inputExpression></input>
      <input id="in_kind"><inputExpression id="e_kind"><text>kind</text></inputExpression></input>
      <output id="out_fee" name="fee"/>
      <rule id="r1">
        <inputEntry id="r1_total"><text>&lt; 10</text></inputEntry>
        <inputEntry id="r1_kind"><text>{kind_cell}</text></inputEntry>
        <outputEntry id="r1_fee"><text>{fee_cell}</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="r2_total"><text>10 &lt;= ? &lt; 500</text></inputEntry>
        <inputEntry id="r2_kind"><text></text></inputEntry>
        <outputEntry id="r2_fee"><text>500</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""

SCRIPT = "total = sum(x * 2 for x in items)\nlabel = f'{total:.1f}'"


def workflow(
    script=SCRIPT, condition="total &gt; 10", kind_cell='"food"', fee_cell="amount * 2"
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode())
    parser.add_dmn_str(DMN.format(kind_cell=kind_cell, fee_cell=fee_cell).encode())
    flow = BpmnWorkflow(parser.get_spec("p"), script_engine=SandboxScriptEngine())
    flow.get_tasks()[0].data.update({"items": [1, 2, 3], "kind": "food", "amount": 100})
    return flow


def finish(flow: BpmnWorkflow) -> dict:
    flow.do_engine_steps()
    assert flow.is_completed()
    return flow.last_task.data


def test_script_task_dmn_and_gateway_run_in_the_sandbox():
    data = finish(workflow())
    assert data["total"] == 12
    assert data["label"] == "12.0"
    assert data["fee"] == 500
    assert data["route"] == "high"


def test_dmn_unary_cells_and_the_other_branch():
    flow = workflow()
    flow.get_tasks()[0].data["items"] = [1]
    data = finish(flow)
    assert (data["total"], data["fee"], data["route"]) == (2, 200, "low")


def test_hostile_script_task_fails_with_its_line():
    flow = workflow(script="x = 1\ny = 2\nz = ().__class__")
    with pytest.raises(WorkflowTaskException) as info:
        flow.do_engine_steps()
    assert info.value.line_number == 3
    assert info.value.error_line == "z = ().__class__"
    assert info.value.error_type == "SandboxViolation"
    assert "sandbox.forbidden_name" in str(info.value)


def test_runaway_script_task_fails_with_its_line():
    flow = workflow(script="x = 1\nwhile True:\n    x += 1")
    with pytest.raises(WorkflowTaskException) as info:
        flow.do_engine_steps()
    assert info.value.error_type == "SandboxLimitExceeded"
    assert info.value.line_number in (2, 3)
    assert "sandbox.time_limit" in str(info.value)


def test_hostile_gateway_condition_is_refused():
    flow = workflow(condition="total.__class__")
    with pytest.raises(WorkflowTaskException) as info:
        flow.do_engine_steps()
    assert "sandbox.forbidden_name" in str(info.value)


@pytest.mark.parametrize(
    ("kind_cell", "fee_cell"),
    [("().__class__", "1"), ('"food"', "__import__('os')"), ('"food"', "'x' * 10**10")],
)
def test_hostile_dmn_cells_are_refused(kind_cell, fee_cell):
    flow = workflow(kind_cell=kind_cell, fee_cell=fee_cell)
    flow.get_tasks()[0].data["items"] = [1]
    with pytest.raises(WorkflowTaskException) as info:
        flow.do_engine_steps()
    assert "sandbox." in str(info.value)


def test_dmn_output_cells_use_task_data():
    flow = workflow(fee_cell="amount * 2 + len(kind)")
    flow.get_tasks()[0].data["items"] = [1]
    assert finish(flow)["fee"] == 204


def test_engine_reports_dates_as_task_data():
    flow = workflow(script="due = date(2026, 10, 1) + timedelta(days=3)\ntotal = 0")
    data = finish(flow)
    assert data["due"] == date(2026, 10, 4)
    assert isinstance(data["due"], date) and not isinstance(data["due"], datetime)
