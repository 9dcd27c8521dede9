from flask import Blueprint

from . import views

bp = Blueprint("supervision", __name__, url_prefix="/supervision", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET"])
bp.add_url_rule(
    "/cases/<number>/audit", endpoint="case_audit", view_func=views.case_audit, methods=["GET"]
)
