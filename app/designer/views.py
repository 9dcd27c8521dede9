"""Upload page for process designers (the full studio comes later)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.policy import requires
from workflows import models as m
from workflows.deployments import UploadedFile, deploy
from workflows.errors import DeploymentInvalid, Problem

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


# A deployment's warnings shown after the redirect (Post/Redirect/Get); only the
# first ones ride in the session cookie, the rest are counted.
REPORT_KEY = "deploy_report"
REPORT_SHOWN = 30


@requires("deploy")
def index():
    report = session.pop(REPORT_KEY, None)
    deployment_id = request.args.get("deployment", type=int)
    if report is None or report.get("deployment") != deployment_id:
        return _page(UploadForm())
    deployment = db.session.get(m.Deployment, deployment_id)
    result = None
    if deployment is not None:
        result = {
            "deployment": deployment,
            "definitions": db.session.scalars(
                select(m.ProcessDefinition)
                .where(m.ProcessDefinition.deployment_id == deployment.id)
                .order_by(m.ProcessDefinition.process_id)
            ).all(),
        }
    problems = [Problem(**p) for p in report.get("warnings", [])]
    if report.get("more"):
        flash(f"另有 {report['more']} 条提示未列出。", "info")
    return _page(UploadForm(), problems=problems, result=result)


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
    session[REPORT_KEY] = {
        "deployment": result.deployment.id,
        "warnings": [p.to_dict() for p in result.warnings[:REPORT_SHOWN]],
        "more": max(0, len(result.warnings) - REPORT_SHOWN),
    }
    return redirect(url_for("designer.index", deployment=result.deployment.id))
