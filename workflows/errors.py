"""Error types of the runtime.

Each error carries a stable English ``code`` (for API clients and tests) and a
Chinese ``message`` (for people). The web layer turns them into pages or JSON
in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class RuntimeErrorBase(Exception):
    """Base of all runtime errors."""

    code = "runtime_error"
    http_status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        body.update(self.details)
        return body


@dataclass
class Problem:
    """One problem found in a deployment bundle."""

    file: str
    line: int | None
    element_id: str | None
    key: str
    message: str
    severity: str = "error"
    detail: str | None = None  # the original (English) text of a SpiffWorkflow refusal

    def to_dict(self) -> dict:
        return asdict(self)


class DeploymentInvalid(RuntimeErrorBase):
    code = "deployment_invalid"
    http_status = 422

    def __init__(self, problems: list[Problem]):
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(
            f"部署包有 {len(errors)} 个错误，已整体拒绝。",
            problems=[p.to_dict() for p in problems],
        )
        self.problems = problems


class NotFound(RuntimeErrorBase):
    code = "not_found"
    http_status = 404


class WorkItemConflict(RuntimeErrorBase):
    """The work item is no longer what the user saw (closed, changed or claimed)."""

    code = "work_item_conflict"
    http_status = 409


class InstanceNotActive(RuntimeErrorBase):
    code = "instance_not_active"
    http_status = 409


class InvalidTaskData(RuntimeErrorBase):
    code = "invalid_data"
    http_status = 422

    def __init__(self, message: str, fields: dict[str, str]):
        super().__init__(message, fields=fields)
        self.fields = fields


class MigrationImpossible(RuntimeErrorBase):
    code = "migration_impossible"
    http_status = 409


class OperationRefused(WorkItemConflict):
    """An approval operation (退回, 撤回, 转办, 委派, 加签/减签) is not possible now."""

    code = "operation_refused"


class ReasonRequired(RuntimeErrorBase):
    """The operation needs a reason (意见/理由) and none was given."""

    code = "reason_required"
    http_status = 422


class UnknownStep(NotFound):
    """A step the instance's diagram version does not have."""

    code = "unknown_step"
