"""The runtime as the platform uses it, with the features plugged into its seams.

``workflows.runtime`` has three seams: an ``Assigner`` routes new work to people,
``Observer``s hear of every saved change, ``Guard``s may refuse a change of a
running instance. The kernel knows no feature: the application factory plugs
routing's assigner, the case observers and guards in with ``plug`` (once per
application), and ``platform_runtime`` builds runtimes with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app.extensions import db
from workflows.runtime import Runtime

_KEY = "yimen.engine"


@dataclass
class Seams:
    assigner: object | None = None
    observers: list = field(default_factory=list)
    guards: list = field(default_factory=list)


class Observers:
    """Several observers heard as one, in the order they were plugged in."""

    def __init__(self, observers: list):
        self.observers = observers

    def instance_saved(self, session, instance, completed) -> None:
        for observer in self.observers:
            observer.instance_saved(session, instance, completed)


class Guards:
    """Several guards asked as one: the first refusal stops the change."""

    def __init__(self, guards: list):
        self.guards = guards

    def may_change(self, session, instance, action: str) -> None:
        for guard in self.guards:
            guard.may_change(session, instance, action)


def plug(app, *, assigner=None, observer=None, guard=None) -> None:
    """Plug a feature's assigner, observer or guard into the application's runtime."""
    seams = app.extensions.setdefault(_KEY, Seams())
    if assigner is not None:
        seams.assigner = assigner
    if observer is not None:
        seams.observers.append(observer)
    if guard is not None:
        seams.guards.append(guard)


def platform_runtime(session=None) -> Runtime:
    """A runtime on the request's session (or ``session``) with the plugged-in seams."""
    seams = current_app.extensions.get(_KEY) or Seams()
    return Runtime(
        session if session is not None else db.session,
        assigner=seams.assigner,
        observer=Observers(seams.observers) if seams.observers else None,
        guard=Guards(seams.guards) if seams.guards else None,
    )
