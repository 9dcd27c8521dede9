"""Upload page for process designers (the full studio comes later)."""

from __future__ import annotations

from flask import flash, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.policy import requires
from workflows import models as m
from workflows.deployments import UploadedFile, deploy
from workflows.errors import DeploymentInvalid

from .forms import UploadForm


def _definitions():
    return db.session.scalars(
        select(m.ProcessDefinition)
        .options(selectinload(m.ProcessDefinition.deployment))
        .order_by(m.ProcessDefinition.process_id, m.ProcessDefinition.version.desc())
    ).all()


def _page(form, *, problems=None, result=None, status=200):
    return (
        render_template(
            "designer/index.html",
            form=form,
            definitions=_definitions(),
            problems=problems,
            result=result,
        ),
        status,
    )


@requires("deploy")
def index():
    return _page(UploadForm())


@requires("deploy")
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    files = [UploadedFile(f.filename or "unnamed", f.read()) for f in form.files.data if f]
    try:
        result = deploy(db.session, files, actor=current_user.username)
    except DeploymentInvalid as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _page(form, problems=exc.problems, status=422)
    db.session.commit()
    if result.created:
        flash("部署成功。", "success")
    else:
        flash("这些文件与已部署的版本完全相同，没有产生新版本。", "info")
    return _page(UploadForm(), problems=result.warnings, result=result)
