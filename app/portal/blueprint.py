from flask import Blueprint

from . import application_views as apply
from . import library_views, staff_views, views, voice_views

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")
# the window's page for applicants' accounts (a staff page, in the staff shell)
staff = Blueprint("applicants", __name__, url_prefix="/applicants", template_folder="templates")

bp.add_url_rule("/", endpoint="home", view_func=views.home)
bp.add_url_rule("/guides", endpoint="guides", view_func=views.guides)
bp.add_url_rule("/guides/<code>", endpoint="guide", view_func=views.item_guide)
bp.add_url_rule(
    "/guides/<code>/materials/<int:material_id>/<any(blank, example):which>",
    endpoint="material_file",
    view_func=views.material_file,
)
bp.add_url_rule("/register", endpoint="register", view_func=views.register, methods=["GET", "POST"])
bp.add_url_rule("/login", endpoint="login", view_func=views.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", endpoint="logout", view_func=views.logout, methods=["POST"])
bp.add_url_rule("/me", endpoint="profile", view_func=views.profile)
bp.add_url_rule(
    "/me/password", endpoint="password", view_func=views.password, methods=["GET", "POST"]
)
bp.add_url_rule("/guides/<code>/apply", endpoint="apply", view_func=apply.start, methods=["POST"])
# 一件事一次办: the package's guide, its application and the package as a whole
bp.add_url_rule("/packages/<code>", endpoint="package_guide", view_func=views.package_guide)
bp.add_url_rule(
    "/packages/<code>/apply",
    endpoint="apply_package",
    view_func=apply.start_package,
    methods=["POST"],
)
bp.add_url_rule("/my/packages/<number>", endpoint="package_case", view_func=apply.package_case)
bp.add_url_rule(
    "/applications/<int:draft_id>",
    endpoint="application",
    view_func=apply.application,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/applications/<int:draft_id>/delete",
    endpoint="delete_application",
    view_func=apply.delete,
    methods=["POST"],
)
bp.add_url_rule(
    "/applications/<int:draft_id>/materials/<int:material_id>",
    endpoint="draft_file",
    view_func=apply.draft_file,
)
bp.add_url_rule("/cases", endpoint="cases", view_func=apply.cases)
bp.add_url_rule("/cases/link", endpoint="link_case", view_func=apply.link, methods=["POST"])
bp.add_url_rule("/cases/<number>", endpoint="case", view_func=apply.case)
bp.add_url_rule("/cases/<number>/rating", endpoint="rate", view_func=apply.rate, methods=["POST"])
# 投诉 and 办不成事: anyone, signed in or with a phone number only
bp.add_url_rule(
    "/complaints", endpoint="complaint", view_func=voice_views.complaint, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/cannot-do", endpoint="cannot_do", view_func=voice_views.cannot_do, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/cases/<number>/correction",
    endpoint="correction",
    view_func=apply.correction,
    methods=["POST"],
)
bp.add_url_rule(
    "/cases/<number>/supplement",
    endpoint="supplement",
    view_func=apply.supplement,
    methods=["POST"],
)
bp.add_url_rule(
    "/cases/<number>/materials/<int:material_id>", endpoint="case_file", view_func=apply.case_file
)
bp.add_url_rule(
    "/cases/<number>/documents/<int:doc_id>.pdf", endpoint="document", view_func=apply.document_pdf
)
# 资料共享库 (app/portal/library_views.py)
bp.add_url_rule("/library", endpoint="library", view_func=library_views.index)
bp.add_url_rule(
    "/library/<int:entry_id>/consent",
    endpoint="library_consent",
    view_func=library_views.consent,
    methods=["POST"],
)
bp.add_url_rule(
    "/library/<int:entry_id>/file", endpoint="library_file", view_func=library_views.entry_file
)

staff.add_url_rule("/reset", endpoint="reset", view_func=staff_views.reset, methods=["GET", "POST"])


@bp.context_processor
def _identity():
    return {"portal_identity": views.current_identity, "county_name": views.county_name}
