from flask import Blueprint

from . import views

bp = Blueprint("verify", __name__, url_prefix="/verify", template_folder="templates")

bp.add_url_rule("/", endpoint="index", view_func=views.index, methods=["GET", "POST"])
bp.add_url_rule("/case", endpoint="case", view_func=views.case, methods=["GET", "POST"])
bp.add_url_rule("/<code>", endpoint="code", view_func=views.code, methods=["GET"])
