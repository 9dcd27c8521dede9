"""What every organisation page does the same way: run a change, commit, show the refusal."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from app import once
from app.errors import refusals_return_to
from app.extensions import db

from .services import OrgError

FAILED = object()


def show_error(form, exc: OrgError | once.AlreadySubmitted) -> None:
    """Put the message next to the field it names, or above the form."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def save(form, change: Callable):
    """Run a service change for a submitted form and commit.

    Returns what ``change`` returned, or ``FAILED`` after rolling back and
    showing the OrgError on the form.
    """
    try:
        if hasattr(form, "nonce"):
            once.spend_nonce(db.session, form.nonce.data)
        result = change()
    except (OrgError, once.AlreadySubmitted) as exc:
        db.session.rollback()
        show_error(form, exc)
        return FAILED
    db.session.commit()
    return result


def act(change: Callable, success: str, *, refused_to: str) -> None:
    """Run a change behind a button (no fields) and commit; the outcome is flashed.

    A refusal is rolled back and flashed on the page ``refused_to`` by the error handler.
    """
    refusals_return_to(refused_to)
    change()
    db.session.commit()
    flash(success, "success")
