from flask import Blueprint

from . import views

# public: the rating page opened from a notice's QR code, the monthly results
bp = Blueprint("feedback", __name__, url_prefix="/rate", template_folder="templates")
bp.add_url_rule("/results", endpoint="results", view_func=views.results)
bp.add_url_rule("/<number>", endpoint="rate", view_func=views.rate_form, methods=["GET"])
bp.add_url_rule("/<number>", endpoint="rate_submit", view_func=views.rate, methods=["POST"])

# staff: the hall's 专窗 for complaints and 办不成事
window = Blueprint("feedback_window", __name__, url_prefix="/feedback")
window.add_url_rule(
    "/window/<kind>", endpoint="window", view_func=views.window, methods=["GET", "POST"]
)
