"""Translate expressions written for other engines into the Python our engine runs.

SpiffWorkflow evaluates every expression as Python, timers included, so a
timer written the standard way (``PT5M``) is a NameError there. Camunda Modeler
users write JUEL (``${approved && amount > 1000}``). Both are rewritten once,
at parse time, into the Python the sandbox evaluates; anything else is left as
written.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$",
    re.IGNORECASE,
)
_RECURRING = re.compile(r"^R\d*/", re.IGNORECASE)
_WEEK_DATE = re.compile(r"^\d{4}-?W\d{2}-?\d", re.IGNORECASE)
_JUEL = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)

_JUEL_TOKENS = re.compile(
    r"""(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|!|==|<=|>=)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<other>\s+|.)""",
    re.VERBOSE | re.DOTALL,
)
_JUEL_OPS = {"&&": " and ", "||": " or ", "!": " not "}
_JUEL_WORDS = {
    "true": "True",
    "false": "False",
    "null": "None",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
    "empty": " not ",
}


def is_iso_timer_literal(text: str) -> bool:
    """True for an ISO 8601 duration, date-time, week date or recurring interval."""
    text = text.strip()
    if not text:
        return False
    if _DURATION.match(text) or _RECURRING.match(text) or _WEEK_DATE.match(text):
        return True
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def juel_to_python(text: str) -> str | None:
    """Translate a simple JUEL ``${...}`` expression; None if it is not one."""
    match = _JUEL.match(text)
    if match is None:
        return None
    out = []
    for token in _JUEL_TOKENS.finditer(match.group(1)):
        kind, value = token.lastgroup, token.group()
        if kind == "op":
            out.append(_JUEL_OPS.get(value, value))
        elif kind == "word":
            out.append(_JUEL_WORDS.get(value, value))
        else:
            out.append(value)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def normalize_timer(text: str | None) -> str | None:
    """The Python expression for a timer written as ISO text, JUEL or Python."""
    if text is None:
        return None
    stripped = text.strip()
    if is_iso_timer_literal(stripped):
        return repr(stripped)
    translated = juel_to_python(stripped)
    return translated if translated is not None else text


def normalize_condition(text: str | None) -> str | None:
    """The Python expression for a condition written as JUEL or Python."""
    if text is None:
        return None
    translated = juel_to_python(text)
    return translated if translated is not None else text


# What a timer's expression must give, by the kind of timer (timeDuration, timeDate, timeCycle).
TIMER_EXPECTED = {
    "duration": "ISO 8601 时长如 PT30S、datetime 或 timedelta",
    "date": "ISO 8601 时间如 2030-01-01T08:00:00、datetime 或 timedelta",
    "cycle": "ISO 8601 重复周期如 R3/PT10M 或 timedelta",
}


def timer_text(kind: str, value, now: datetime | None = None) -> str:
    """The ISO text SpiffWorkflow expects from a timer's evaluated value.

    A ``timedelta`` counts from ``now``, a ``datetime`` (naive means local, as
    in ISO text) is the due time; ValueError if the value fits neither.
    """
    now = now or datetime.now(UTC)
    if isinstance(value, str):
        text = value.strip()
        if _fits(kind, text):
            return text
    elif isinstance(value, timedelta):
        seconds = max(value.total_seconds(), 0)
        duration = f"PT{seconds:g}S" if seconds != int(seconds) else f"PT{int(seconds)}S"
        if kind == "duration":
            return duration
        return f"R/{duration}" if kind == "cycle" else (now + value).isoformat()
    elif isinstance(value, datetime) and kind != "cycle":
        if kind == "date":
            return value.isoformat()
        due = value if value.tzinfo is not None else value.astimezone()
        return f"PT{max(math.ceil((due - now).total_seconds()), 0)}S"
    raise ValueError(TIMER_EXPECTED.get(kind, TIMER_EXPECTED["duration"]))


def step_label(spec) -> str:
    """A step as people read it: its BPMN id, with its name when that says more."""
    name = getattr(spec, "bpmn_name", None)
    return spec.bpmn_id + (f"（{name}）" if name and name != spec.bpmn_id else "")


def _fits(kind: str, text: str) -> bool:
    if kind == "duration":
        return bool(_DURATION.match(text))
    if kind == "cycle":
        return bool(_RECURRING.match(text))
    return is_iso_timer_literal(text) and not _DURATION.match(text) and not _RECURRING.match(text)


# Languages other engines evaluate; ours runs Python only. Each with the Python way to write it.
_LANGUAGE_HINTS = {
    "JavaScript": "例如 amount > 1000 and approved（=== 写作 ==，&& 写作 and，|| 写作 or，! 写作 not）",
    "Groovy": "例如 total = price * count（变量直接赋值，不用 def）",
    "FEEL": "例如 amount > 1000 and kind == '食品'（日期写作 date(2030, 1, 1)）",
    "XPath": "直接用流程变量名，例如 approved == True",
    "cron": "定时器请用 ISO 8601：每天一次写 R/P1D，每 10 分钟写 R/PT10M，单次等待写 PT30S",
}
_LANGUAGE_NAMES = (
    ("javascript", "JavaScript"),
    ("ecmascript", "JavaScript"),
    ("groovy", "Groovy"),
    ("feel", "FEEL"),
    ("xpath", "XPath"),
)
_SYNTAX = (
    ("cron", re.compile(r"^[\d*?/,LW#-]+(\s+[\d*?/,LW#A-Z-]+){4,6}$", re.IGNORECASE)),
    (
        "JavaScript",
        re.compile(r"===|!==|&&|\|\||^\s*(var|let|const)\s+\w+\s*=|\bfunction\s*\(", re.M),
    ),
    ("Groovy", re.compile(r"^\s*def\s+\w+\s*=|\bprintln\b", re.M)),
    (
        "FEEL",
        re.compile(r"^\s*if\b.+\bthen\b.+\belse\b|\bdate and time\(|\[\s*\d+\s*\.\.\s*\d+\s*\]"),
    ),
    ("XPath", re.compile(r"^\s*/{1,2}[A-Za-z_][\w:-]*(/|\[|$)|\bbpmn:getDataObject\(|^\s*@\w+")),
)


def declared_language(attribute: str | None) -> str | None:
    """The unsupported language a ``language``/``scriptFormat`` attribute names, if any."""
    value = (attribute or "").lower()
    for word, name in _LANGUAGE_NAMES:
        if word in value:
            return name
    return "JavaScript" if value in ("js", "text/javascript") else None


def foreign_language(text: str) -> str | None:
    """The other engine's language text that is not valid Python is plainly written in."""
    for name, pattern in _SYNTAX:
        if pattern.search(text.strip()):
            return name
    return None


def unsupported_language_message(language: str) -> str:
    return f"不支持的表达式语言 {language}：请用 Python 写，{_LANGUAGE_HINTS[language]}。"
