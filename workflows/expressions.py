"""Translate expressions written for other engines into the Python our engine runs.

SpiffWorkflow evaluates every expression as Python, timers included, so a
timer written the standard way (``PT5M``) is a NameError there. Camunda Modeler
users write JUEL (``${approved && amount > 1000}``). Both are rewritten once,
at parse time, into the Python the sandbox evaluates; anything else is left as
written.
"""

from __future__ import annotations

import re
from datetime import datetime

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
