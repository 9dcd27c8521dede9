from flask import Blueprint

from . import views

bp = Blueprint("statistics", __name__, url_prefix="/statistics", template_folder="templates")
bp.add_url_rule("/", endpoint="index", view_func=views.index)
bp.add_url_rule("/export.xlsx", endpoint="export", view_func=views.export)
bp.add_url_rule("/rankings", endpoint="ranking", view_func=views.ranking)
bp.add_url_rule("/rankings/bulletin", endpoint="bulletin", view_func=views.bulletin)
bp.add_url_rule("/bottlenecks", endpoint="bottleneck", view_func=views.bottleneck)
bp.add_url_rule(
    "/items/<int:item_id>/diagram.bpmn", endpoint="item_diagram", view_func=views.item_diagram
)
bp.add_url_rule("/report.pdf", endpoint="monthly_report", view_func=views.monthly_report)
