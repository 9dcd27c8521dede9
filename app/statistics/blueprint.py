from flask import Blueprint

from . import views

bp = Blueprint("statistics", __name__, url_prefix="/statistics", template_folder="templates")
bp.add_url_rule("/", endpoint="index", view_func=views.index)
bp.add_url_rule("/export.xlsx", endpoint="export", view_func=views.export)
