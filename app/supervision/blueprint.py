from flask import Blueprint

from . import views

bp = Blueprint("supervision", __name__, url_prefix="/supervision", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule(
    "/cases/<number>/audit", endpoint="case_audit", view_func=views.case_audit, methods=["GET"]
)
bp.add_url_rule("/cases/<number>/urge", endpoint="urge", view_func=views.urge, methods=["POST"])
bp.add_url_rule("/deductions", endpoint="deductions", view_func=views.deductions, methods=["GET"])
bp.add_url_rule(
    "/deductions/<int:deduction_id>/reverse",
    endpoint="reverse_deduction",
    view_func=views.reverse_deduction,
    methods=["POST"],
)
bp.add_url_rule(
    "/cases/<number>/suspend", endpoint="suspend", view_func=views.suspend, methods=["POST"]
)
