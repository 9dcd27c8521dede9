"""The SpiffWorkflow script environment and engine that run everything in the sandbox."""

from __future__ import annotations

from time import monotonic

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..expressions import step_label, timer_text
from .budget import CURRENT, SandboxLimits
from .checker import FORBIDDEN_CALLS
from .compiler import Compiled, check_parsed, compile_checked
from .data import SCALARS, STORABLE, check_data, sanitize
from .errors import SandboxError, over_limit, violation
from .guards import GUARDS
from .safe_builtins import BUILTINS, HELPERS

# Bound once: CPython 3.11 compiles ``CURRENT.set(...)`` on an imported name as
# an attribute load that binds a new method object on every call.
_start_budget, _stop_budget = CURRENT.set, CURRENT.reset


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts with TaskDataEnvironment's data semantics.

    ``execute`` updates the task data in place with what the script assigns,
    removes keys the script deletes and drops non-data values; ``evaluate``
    returns the value. Helpers behave like builtins: task data of the same
    name shadows them instead of being refused.
    """

    def __init__(self, helpers: dict | None = None, limits: SandboxLimits | None = None):
        super().__init__({})
        self.limits = limits or SandboxLimits()
        builtins = {**BUILTINS, **HELPERS, **_validate_helpers(helpers or {})}
        self._injected = {**GUARDS, "__builtins__": builtins}

    def evaluate(self, expression, context, external_context=None):
        compiled = compile_checked(expression, "eval")
        scope = self._scope(context, external_context)
        value = self._run(compiled, scope, eval)
        return self._check_result(value)

    def execute(self, script, context, external_context=None):
        external = external_context or {}
        _check_for_overwrite(context, external)
        compiled = compile_checked(script, "exec")
        scope = self._scope(context, external)
        self._run(compiled, scope, exec)
        self._store(context, scope, external)
        return True

    def call_service(self, context, **kwargs):
        raise violation("暂不支持服务任务", "sandbox.service_task_unsupported")

    def _scope(self, context, external) -> dict:
        """Task data over external names, with the guards always winning."""
        scope = self._injected.copy()
        if external:
            scope.update(external)
        scope.update(context)
        if len(scope) < len(self._injected) + len(context) + len(external or ()):
            scope.update(self._injected)  # a key collided; it may have been a guard
        return scope

    def _run(self, compiled: Compiled, scope: dict, runner):
        token = _start_budget((self.limits, monotonic())) if compiled.needs_budget else None
        try:
            return runner(compiled.code, scope)
        except SandboxError:
            raise
        except RecursionError as error:
            raise over_limit("递归层数过深", "sandbox.recursion_limit").with_traceback(
                error.__traceback__
            ) from None
        except MemoryError as error:
            raise over_limit("内存不足", "sandbox.memory_limit").with_traceback(
                error.__traceback__
            ) from None
        except NameError as error:
            if error.name in FORBIDDEN_CALLS:
                refusal = violation(f"不允许使用 {error.name}", "sandbox.forbidden_name")
                raise refusal.with_traceback(error.__traceback__) from None
            sanitize(error)
            raise
        except Exception as error:
            sanitize(error)
            raise
        finally:
            if token is not None:
                _stop_budget(token)

    def _check_result(self, value):
        if type(value) in SCALARS and type(value) is not int:
            return value
        check_data(value, self.limits, "表达式结果", self.limits.max_data_size)
        return value

    def _store(self, context: dict, scope: dict, external: dict) -> None:
        """Copy the script's variables back into task data, all or nothing.

        A list or dict the script changed in place is shared with the task
        data already; if it became unstorable, its key is removed so the
        runtime never tries to serialize it.
        """
        updates, drops = {}, []
        for key, value in scope.items():
            if key.startswith("_") or key in external:
                continue
            if type(value) in STORABLE:
                updates[key] = value
            else:
                drops.append(key)
        remaining = self.limits.max_data_size
        for key, value in updates.items():
            try:
                remaining -= check_data(value, self.limits, key, remaining)
            except SandboxError:
                context.pop(key, None)
                raise
        deleted = [key for key in context if key not in scope]
        context.update(updates)
        for key in deleted + drops:
            context.pop(key, None)


def _timer_value(task, definition, value) -> str:
    """A timer's value as the ISO text SpiffWorkflow parses, or an error naming the timer."""
    if isinstance(definition, DurationTimerEventDefinition):
        kind = "duration"
    else:
        kind = "cycle" if isinstance(definition, CycleTimerEventDefinition) else "date"
    try:
        return timer_text(kind, value)
    except ValueError as error:
        label = step_label(task.task_spec)
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise WorkflowTaskException(
            f"定时器 {label} 的表达式结果是 {type(value).__name__} {shown}，应为 {error}",
            task=task,
        ) from None


def _validate_helpers(helpers: dict) -> dict:
    """Helpers must be reachable names holding functions or plain data."""
    for name, value in helpers.items():
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"invalid helper name: {name!r}")
        if not callable(value) and type(value) not in SCALARS:
            raise ValueError(f"helper {name!r} must be a function or a plain value")
    return dict(helpers)


def _check_for_overwrite(context: dict, external: dict) -> None:
    """As in TaskDataEnvironment: task data must not hide external names."""
    clashes = set(external).intersection(context)
    if clashes:
        raise ValueError(
            "You have task data that overwrites a predefined function(s). Please change "
            f"the following variable or field name(s) to something else: {clashes}"
        )


class SandboxScriptEngine(PythonScriptEngine):
    """A PythonScriptEngine whose every script and expression runs in the sandbox."""

    def __init__(
        self,
        environment: SandboxEnvironment | None = None,
        *,
        helpers: dict | None = None,
        limits: SandboxLimits | None = None,
    ):
        super().__init__(environment or SandboxEnvironment(helpers=helpers, limits=limits))

    def validate(self, expression):
        """SyntaxError exactly as ``ast.parse`` raises it, then the policy check.

        DMNEngine.needs_eq tells a full expression from a ``< 5`` style cell by
        catching SyntaxError, so policy problems must not look like syntax.
        """
        check_parsed(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as error:
            error.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as error:
            message = f"Error evaluating expression '{expression}': {type(error).__name__}: {error}"
            raise WorkflowTaskException(message, task=task, exception=error) from error
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and definition.expression == expression:
            return _timer_value(task, definition, value)
        return value

    def call_service(self, task, **kwargs):
        raise WorkflowTaskException(
            "暂不支持服务任务 (sandbox.service_task_unsupported)", task=task
        )

    def create_task_exec_exception(self, task, script, err):
        """Like the base class, but messages need not be strings in ``args[0]``."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(
            f"{type(err).__name__}: {err}",
            task=task,
            exception=err,
            line_number=line_number,
            error_line=error_line,
        )

    def get_error_line_number_and_content(self, script, err):
        """Policy errors are found before running, so they carry the line."""
        lineno = getattr(err, "lineno", None) if isinstance(err, SandboxError) else None
        if not lineno:
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return lineno, lines[lineno - 1] if 0 < lineno <= len(lines) else ""
