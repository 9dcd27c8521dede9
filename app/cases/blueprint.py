from flask import Blueprint

from . import corrections, diagram, package_views, payments, views

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
bp.add_app_template_global(corrections.waiting_correction, "waiting_correction")
bp.add_app_template_global(payments.provider_label, "provider_label")
bp.add_app_template_global(package_views.package_of_case, "package_of_case")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule("/intake", endpoint="intake", view_func=views.intake, methods=["GET"])
bp.add_url_rule(
    "/intake", endpoint="intake_submit", view_func=views.intake_submit, methods=["POST"]
)
# 一件事 (app/cases/package_views.py)
bp.add_url_rule(
    "/intake/packages/<int:package_id>",
    endpoint="package_intake",
    view_func=package_views.intake,
    methods=["GET", "POST"],
)
bp.add_url_rule("/packages/<number>", endpoint="package", view_func=package_views.page)
bp.add_url_rule(
    "/packages/<number>/deliver",
    endpoint="package_deliver",
    view_func=package_views.deliver,
    methods=["POST"],
)
bp.add_url_rule("/<number>", endpoint="detail", view_func=views.detail, methods=["GET"])
bp.add_url_rule(
    "/<number>/<any(accept, correct, correction_received, refuse, withdraw, deliver, special, resume):action>",
    endpoint="act",
    view_func=views.act,
    methods=["POST"],
)
bp.add_url_rule(
    "/<number>/materials/<int:material_id>/upload",
    endpoint="upload",
    view_func=views.upload,
    methods=["POST"],
)
bp.add_url_rule(
    "/<number>/materials/<int:material_id>/reuse",
    endpoint="reuse",
    view_func=views.reuse,
    methods=["POST"],
)
bp.add_url_rule(
    "/<number>/materials/<int:material_id>",
    endpoint="material_file",
    view_func=views.material_file,
    methods=["GET"],
)
bp.add_url_rule(
    "/<number>/application", endpoint="application", view_func=views.application, methods=["POST"]
)
bp.add_url_rule(
    "/<number>/application/files/<field>",
    endpoint="answer_file",
    view_func=views.answer_file,
    methods=["GET"],
)
bp.add_url_rule("/<number>/diagram", endpoint="diagram", view_func=diagram.page, methods=["GET"])
bp.add_url_rule(
    "/<number>/diagram.bpmn", endpoint="diagram_xml", view_func=diagram.xml, methods=["GET"]
)
