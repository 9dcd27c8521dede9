"""Assignment rules per process: what routing does when nobody, or an odd person, is found."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.policy import requires

from . import queries
from .forms import RulesForm
from .services import RULE_OPTIONS, RULE_QUESTIONS, rule_defaults, rules_for, save_rules
from .web import FAILED, save

MANAGE = "org.manage"


@requires(MANAGE)
def index():
    return render_template(
        "org/rules.html",
        processes=queries.processes_with_rules(db.session),
        defaults=rule_defaults(),
        options=RULE_OPTIONS,
        questions=RULE_QUESTIONS,
    )


@requires(MANAGE)
def edit():
    process_id = (request.values.get("process_id") or "").strip()
    if not process_id or len(process_id) > 255:
        abort(404)
    form = RulesForm(obj=rules_for(db.session, process_id))
    if form.validate_on_submit():
        choices = {name: getattr(form, name).data for name in RULE_OPTIONS}
        if save(form, lambda: save_rules(db.session, process_id, **choices)) is not FAILED:
            flash(f"流程 {process_id} 的分派规则已保存。", "success")
            return redirect(url_for("org.rules"))
    status = 400 if form.is_submitted() else 200
    return render_template("org/rule_form.html", form=form, process_id=process_id), status
