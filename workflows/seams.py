"""The platform's plug-ins: who gets new work, who hears of changes, who may make them.

The runtime knows nothing of departments, cases or suspensions; ``app`` passes
objects with these methods to ``Runtime(...)``. Each is called inside the
caller's transaction, with the instance row locked where the runtime locks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from . import models as m

# The actions a Guard is asked about: user work, never starts, terminations,
# retries or timers (administrative and automatic changes).
GUARDED_ACTIONS = (
    "complete",
    "claim",
    "release",
    "return",
    "take_back",
    "transfer",
    "delegate",
    "resolve_delegation",
    "add_signer",
    "remove_signer",
    "receive_message",
    "receive_signal",
)


@dataclass
class NewWork:
    """A work item just opened, with the task it mirrors (for routing)."""

    item: m.WorkItem
    task: object


class Assigner(Protocol):
    """Routes new work to people; provided by the platform (``app``)."""

    def assign(
        self, session, instance, work: list[NewWork], previous_actor: str | None
    ) -> dict[int, str]:
        """Record candidates; return ``{work_item_id: reason}`` for items to complete automatically."""


class Observer(Protocol):
    """Told of every saved change of an instance, inside the same transaction."""

    def instance_saved(self, session, instance, completed: list[m.WorkItem]) -> None:
        """``completed``: the work items completed by this change (by people or rules)."""


class Guard(Protocol):
    """Decides whether user work may change an instance now (e.g. not while it is suspended)."""

    def may_change(self, session, instance, action: str) -> None:
        """Raise a ``workflows.errors.RuntimeErrorBase`` subclass to refuse ``action``.

        Called once per call, after the instance is locked (or, for claim and
        release, loaded) and before anything changes; ``action`` is one of
        ``GUARDED_ACTIONS``.
        """
