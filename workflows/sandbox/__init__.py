"""A sandbox for the Python that process designers write into diagrams.

Threat model
------------
Scripts, gateway conditions, timer and multi-instance expressions and DMN cells
come from uploaded BPMN/DMN files, so they are untrusted. The author may know
Python well and may try to

* escape: reach a frame, code object, module, function globals, the real
  builtins, type or object internals, or the file system, network or processes;
* exhaust the server: CPU bombs (``9**9**9``), memory bombs (``'x' * 10**10``),
  endless loops, runaway recursion, or values that explode when the runtime
  later turns them into text or JSON.

Everything here is a whitelist, checked on the syntax tree before anything runs
and again by guards the tree is rewritten to call:

* Statements: expression statements, ``=`` (with tuple unpacking and ``*rest``),
  augmented assignment, ``if``, ``for``, ``while``, ``break``, ``continue``,
  ``pass``, ``del`` and ``assert``. Not allowed: ``import``, ``def``, ``class``,
  ``return``, ``yield``, ``global``, ``nonlocal``, ``try``, ``raise``, ``with``,
  ``async``/``await``, ``match``, annotated assignment and slice assignment.
* Expressions: literals (str, int, float, bool, None; no bytes, complex or
  ``...``), names, arithmetic, comparisons, ``and``/``or``/``not``, ternaries,
  calls, subscripts and slices, list/dict/set displays, comprehensions,
  generator expressions, ``lambda`` (without ``*args``), ``:=`` and f-strings
  whose format spec is a constant of at most 100 characters with numbers of
  at most 1000.
* Names, attribute names, keyword and lambda parameter names starting with
  ``_`` are refused (the single ``_`` is allowed as a throwaway name); they are
  reserved for the sandbox's guards. Calling eval, exec, compile, open, input,
  breakpoint, help, globals, locals, vars, dir, getattr, setattr, delattr,
  hasattr, type, object, super, classmethod, staticmethod, property,
  memoryview, bytearray, bytes, id, iter, next, exit, quit, format, repr,
  ascii, reload, issubclass, aiter, anext, copyright, credits or license is
  refused when the code is checked (task data may still use those names as
  variables).
* Attribute access goes through a guard that allows a short list of public
  methods and fields on exactly these types: str, list, tuple, dict, set,
  float, Decimal, date, datetime, time, timedelta and the ISO calendar tuple;
  on the classes ``date`` and ``datetime`` only ``today``, ``now``,
  ``fromisoformat``, ``combine`` and ``strptime``. Writing attributes is
  refused. Deliberately missing: ``str.format``/``format_map`` (their field
  syntax ``{0.__class__}`` is an attribute walk of its own), ``encode``,
  ``expandtabs``, ``translate``, ``dict.popitem`` and every ``__dunder__``.
  ``dict.items()`` returns a list of pairs rather than a live view.
* Builtins: abs, all, any, bool, dict, enumerate, filter, float, int,
  isinstance (with the data types listed here only), len, list, map, max, min,
  print (does nothing), range (at most ``max_size`` long), reversed, round,
  set, sorted, str, sum (numbers only), tuple, zip, True/False/None and the
  aliases true/false/null. Helpers: ``date``, ``datetime``, ``timedelta``,
  ``Decimal`` (from text of at most 1000 characters or a number) and ``now()``
  (the current time as a naive UTC datetime, the runtime's storage
  convention). Callers add helpers with ``SandboxEnvironment(helpers=...)``;
  helpers act like builtins, so task data of the same name shadows them.

Text indented inside its XML element is accepted (scripts are dedented, an
expression's first line loses its indent); line numbers do not change.

Limits (``SandboxLimits``) are enforced before an operation runs where the
result size is known (``*``, ``**``, ``<<``, ``+``, ``%`` formatting,
f-strings, ``join``, ``replace``, padding, ``range``, ``int()``, ``str()``),
and cooperatively at every loop iteration, lambda call and bulk operation
(wall time, total work and resident memory growth). Tuples may nest at most
100 deep, because CPython hashes nested tuples recursively without a depth
check and a deep one crashes the process. Task data left by a script, and
values returned by expressions, must be plain data (None, bool, int, float,
str, list, tuple, dict, date, datetime, time, timedelta, Decimal, UUID) of
bounded size and depth. ``execute`` drops other top-level values (lambdas,
iterators, ranges, sets) as SpiffWorkflow drops callables.

Residual risk: a single C-level operation cannot be interrupted from Python.
Each one is bounded in size, but comparing or hashing structures that alias
big objects many times (two lists each holding a million references to
different but equal long strings) can still take long. Hard guarantees need a
process boundary with OS limits.

Modules: ``checker`` (the whitelist on the syntax tree), ``rewriter`` (routes
risky operations through the guards), ``compiler`` (check, rewrite, compile,
cached), ``guards`` and ``safe_builtins`` (what sandboxed code calls),
``budget`` (limits and the per-call budget), ``data`` (values leaving the
sandbox), ``engine`` (the SpiffWorkflow environment and script engine).
"""

from .budget import SandboxLimits
from .compiler import check_expression, check_script
from .engine import SandboxEnvironment, SandboxScriptEngine
from .errors import SandboxError, SandboxLimitExceeded, SandboxViolation

__all__ = [
    "SandboxEnvironment",
    "SandboxError",
    "SandboxLimitExceeded",
    "SandboxLimits",
    "SandboxScriptEngine",
    "SandboxViolation",
    "check_expression",
    "check_script",
]
