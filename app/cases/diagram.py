"""The case's diagram (bpmn-js viewer): done, active and overdue steps, time spent on each."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from app.extensions import db
from app.policy import STAFF, requires
from workflows import models as wm

from .access import visible_case
from .progress import bpmn_file, diagram_download, step_marks


@requires(STAFF)
def page(number: str):
    case = visible_case(number)
    if case.instance is None:
        abort(404)
    marks = step_marks(db.session, case)
    names = {
        w.bpmn_id: w.name
        for w in db.session.scalars(
            select(wm.WorkItem).where(wm.WorkItem.instance_id == case.instance_id)
        )
    }
    return render_template("cases/diagram.html", case=case, marks=marks, names=names)


@requires(STAFF)
def xml(number: str):
    case = visible_case(number)
    if case.instance is None:
        abort(404)
    content = bpmn_file(case.instance.definition)
    if content is None:
        abort(404)
    return diagram_download(content, f"{number}.bpmn")
