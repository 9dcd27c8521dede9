from flask import Blueprint

from . import views

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates")

bp.add_url_rule("/", view_func=views.index, methods=["GET"])
bp.add_url_rule("/upload", view_func=views.upload, methods=["POST"])
