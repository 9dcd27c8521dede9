"""The notices and decisions a case produces (受理通知书, 一次性告知书, 决定书, 送达回证 …).

A document's facts are frozen when it is issued: what the applicant holds on
paper must stay what the platform shows, even after the case or the item
changes. Each document carries a verification code that anyone can check on
the public page (app/verify) without logging in; the code is random, not
derived from the case, so it cannot be guessed from a case number.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from decimal import Decimal

import segno
from flask import current_app, render_template, url_for
from sqlalchemy import select

from app.errors import DomainError
from app.filters import local_time
from app.models.auth import User
from app.models.cases import APPLICANT_TYPES, Case, CaseDocument, CaseEvent
from app.models.items import MATERIAL_FORMS
from app.privacy import mask, mask_phone
from app.vocabulary import CaseEventKind, CaseResult
from workflows.timeutil import utcnow

from . import pdf

KINDS = {
    "receipt": "申请材料接收凭证",
    "acceptance": "受理通知书",
    "correction": "补正材料通知书（一次性告知书）",
    "correction_receipt": "补正材料接收凭证",
    "refusal": "不予受理通知书",
    "decision": "行政许可决定书",
    "delivery": "送达回证",
    "special_procedure": "特别程序告知书",
    "payment_notice": "缴费通知书",
}
# What the caller must pass for each kind (more is kept as given).
REQUIRED_FACTS = {
    "receipt": ("materials",),
    "acceptance": ("materials", "promised_date"),
    "correction": ("missing",),
    "correction_receipt": ("materials",),
    "refusal": ("reason",),
    "decision": ("result", "decided_date"),
    "delivery": ("delivered_date", "method", "receiver"),
    "special_procedure": ("procedure", "start", "reason"),
    "payment_notice": ("amount", "amount_capital"),
}
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed back
CODE_LENGTH = 12
_CODE_ATTEMPTS = 8


class DocumentError(DomainError):
    """A document cannot be issued as asked (unknown kind, facts missing)."""


# --- issuing -------------------------------------------------------------------------


def issue(session, case: Case, kind: str, *, actor: str | None, **extra) -> CaseDocument:
    """Issue a document of ``kind`` for ``case`` in the caller's transaction.

    ``extra`` holds the kind's own facts (see REQUIRED_FACTS); dates may be
    given as ``date`` objects or ISO strings and are stored as ISO strings.
    Needs an application context: the center's name and time zone are config.
    """
    if kind not in KINDS:
        raise DocumentError(f"未知的文书种类：{kind}")
    absent = [name for name in REQUIRED_FACTS[kind] if extra.get(name) in (None, "")]
    if absent:
        raise DocumentError(f"出具{KINDS[kind]}缺少：{'、'.join(absent)}")
    if case.id is None:
        session.flush()
    now = utcnow()
    facts = {**_case_facts(session, case, actor, now), **_kind_facts(session, case, kind, extra)}
    facts["title"] = title_of(kind, facts)
    document = CaseDocument(
        kind=kind,
        verification_code=_new_code(session),
        facts=_plain(facts),
        issued_at=now,
        issued_by=actor,
    )
    case.documents.append(document)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.DOCUMENT_ISSUED,
            actor=actor,
            message=facts["title"],
        )
    )
    session.flush()
    return document


def title_of(kind: str, facts: dict) -> str:
    """The document's title; a decision's says whether it grants (准予) or refuses (不予)."""
    if kind == "decision":
        return f"{_result_zh(facts.get('result'))}行政许可决定书"
    return KINDS[kind]


def _result_zh(result: str | None) -> str:
    """准予 or 不予 for a decision's result; nothing for a document without one."""
    word = CaseResult.parse(result)
    return word.label if word is not None else ""


def _case_facts(session, case: Case, actor: str | None, now: datetime) -> dict:
    facts = {
        "case_number": case.number,
        "item_code": case.item.code,
        "item_name": case.item.name,
        "item_kind": case.item.kind,
        "item_kind_zh": case.item.kind_zh,
        "committed_days": case.item.committed_days,
        "applicant_name": case.applicant_name,
        "applicant_type": case.applicant_type,
        "applicant_type_zh": APPLICANT_TYPES.get(case.applicant_type, case.applicant_type),
        "applicant_id_masked": mask(case.applicant_id_number),
        "applicant_phone_masked": mask_phone(case.applicant_phone),
        "place_name": place_name(case.place),
        "received_date": _local_date(case.received_at),
        "accepted_date": _local_date(case.accepted_at),
        "center_name": current_app.config["CENTER_NAME"],
        "authority": issuing_authority(case),
        "officer": display_name(session, actor),
        "issued_date": _local_date(now),
    }
    if current_app.config.get("CENTER_PHONE"):
        facts["contact_phone"] = current_app.config["CENTER_PHONE"]
    return facts


def issuing_authority(case: Case) -> str:
    """In whose name the case's documents are issued: the item's 实施机关 (the center's
    name only for an item that names none and has no lead department)."""
    return case.item.issuing_authority or current_app.config["CENTER_NAME"]


def _kind_facts(session, case: Case, kind: str, extra: dict) -> dict:
    facts = dict(extra)
    for key in ("materials", "missing"):
        if key in facts:
            facts[key] = [_material(case, m) for m in facts[key]]
    if "officer" in facts:
        facts["officer"] = display_name(session, facts["officer"])
    if kind == "delivery" and "served_document" not in facts:
        decisions = [d for d in case.documents if d.kind == "decision"]
        facts["served_document"] = (
            decisions[-1].facts["title"] if decisions else f"{case.item.name}办理结果"
        )
    return facts


def _material(case: Case, given) -> dict:
    """A material as {name, copies, form, …}, completed from the item's list by name."""
    fact = dict(given) if isinstance(given, dict) else {"name": str(given)}
    listed = next((m for m in case.item.materials if m.name == fact.get("name")), None)
    if listed is not None:
        fact.setdefault("copies", listed.copies)
        fact.setdefault("form", listed.form)
    if fact.get("form"):
        fact["form_zh"] = MATERIAL_FORMS.get(fact["form"], fact["form"])
    return fact


def display_name(session, username: str | None) -> str | None:
    """A person's name as printed on a notice (the username if the account is gone)."""
    if not username:
        return None
    user = session.scalars(select(User).where(User.username == username)).first()
    return user.display_name if user is not None and user.display_name else username


def place_name(place) -> str:
    """The place from the county down, e.g. 青山县城关镇东关村."""
    names = []
    region = place
    while region is not None:
        names.append(region.name)
        if region.level in ("county", "city", "province"):
            break
        region = region.parent
    return "".join(reversed(names))


def _local_date(value: datetime | None) -> str | None:
    return local_time(value, "%Y-%m-%d") if value is not None else None


def _plain(value):
    """Facts as plain JSON: dates as ISO strings, decimals as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# --- verification codes ------------------------------------------------------------


def _random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _new_code(session) -> str:
    for _ in range(_CODE_ATTEMPTS):
        code = _random_code()
        taken = select(CaseDocument.id).where(CaseDocument.verification_code == code)
        if session.scalar(taken) is None:
            return code
    raise DocumentError("无法生成唯一的验证码，请重试。")


def format_code(code: str) -> str:
    """XXXX-XXXX-XXXX, as printed and read aloud."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str | None:
    """The stored form of a typed code (case, dashes and spaces ignored); None if malformed."""
    code = re.sub(r"[\s\-－—]", "", text or "").upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def find_by_code(session, code: str) -> CaseDocument | None:
    """The document with this verification code, however the applicant typed it."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    return session.scalars(
        select(CaseDocument).where(CaseDocument.verification_code == normalized)
    ).first()


# --- rendering -------------------------------------------------------------------------


def zh_date(value: str | date | None) -> str:
    """2026年10月13日 from an ISO date (or datetime) string."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


# the notices that carry the 好差评 code: the applicant rates the case from the paper
RATED_ON = ("acceptance", "delivery")


def rating_code(number: str) -> tuple[str, str]:
    """The rating page's address and its QR code (an SVG data URI)."""
    url = url_for("feedback.rate", number=number, _external=True)
    return url, segno.make(url, error="m").svg_data_uri(scale=3, border=2)


def render_html(document: CaseDocument, *, for_pdf: bool = False) -> str:
    """The printable A4 page; needs a request context (or SERVER_NAME) for the verify URL."""
    rating_url, rating_qr = (
        rating_code(document.case.number) if document.kind in RATED_ON else (None, None)
    )
    return render_template(
        f"cases/documents/{document.kind}.html",
        document=document,
        f=document.facts,
        code=format_code(document.verification_code),
        verify_url=url_for("verify.index", _external=True),
        query_url=url_for("verify.case", _external=True),
        rating_url=rating_url,
        rating_qr=rating_qr,
        for_pdf=for_pdf,
        zh_date=zh_date,
    )


def render_pdf(document: CaseDocument) -> bytes:
    """The PDF of the printable page; raises pdf.PdfUnavailable where it cannot be made."""
    return pdf.html_to_pdf(render_html(document, for_pdf=True))


# --- what the public verification page may show ---------------------------------------


def mask_name(name: str | None, applicant_type: str = "person") -> str:
    """A person's name with the middle hidden (周*华); a company's name is public."""
    value = (name or "").strip()
    if applicant_type == "company" or len(value) < 2:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def _names(materials) -> str:
    return "、".join(m.get("name", "") for m in materials or []) or "无"


def _materials_rows(f: dict) -> list[tuple[str, str]]:
    return [("收到的材料", _names(f.get("materials")))]


def _acceptance_rows(f: dict) -> list[tuple[str, str]]:
    return [
        # the day the case was accepted: a deemed acceptance (Art. 32) is issued days later
        ("受理日期", zh_date(f.get("accepted_date") or f.get("issued_date"))),
        ("承诺办结时间", zh_date(f.get("promised_date"))),
    ]


def _correction_rows(f: dict) -> list[tuple[str, str]]:
    rows = [
        ("需补正的材料", _names(f.get("missing"))),
        ("补正说明", f.get("deadline_note") or "无"),
    ]
    if f.get("requested_by"):
        rows.insert(0, ("提出补正的部门", f["requested_by"]))
    return rows


def _refusal_rows(f: dict) -> list[tuple[str, str]]:
    return [("不予受理理由", f.get("reason", ""))]


def _decision_rows(f: dict) -> list[tuple[str, str]]:
    rows = [
        ("决定", f"{_result_zh(f.get('result'))}行政许可"),
        ("决定日期", zh_date(f.get("decided_date"))),
    ]
    if f.get("certificate_no"):
        rows.append(("许可证件编号", str(f["certificate_no"])))
    if f.get("result") == CaseResult.APPROVE and f.get("valid_until"):
        rows.append(("有效期限至", zh_date(f["valid_until"])))
    return rows


def _delivery_rows(f: dict) -> list[tuple[str, str]]:
    return [
        ("送达文书", f.get("served_document", "")),
        ("送达方式", f.get("method", "")),
        ("送达日期", zh_date(f.get("delivered_date"))),
        ("受送达人", mask_name(f.get("receiver"), f.get("applicant_type", "person"))),
    ]


def _special_procedure_rows(f: dict) -> list[tuple[str, str]]:
    rows = [("特别程序", f.get("procedure", "")), ("开始日期", zh_date(f.get("start")))]
    if f.get("expected_end"):
        rows.append(("预计结束日期", zh_date(f["expected_end"])))
    return rows


def _payment_notice_rows(f: dict) -> list[tuple[str, str]]:
    return [("应缴金额", f"¥{f.get('amount', '')}（{f.get('amount_capital', '')}）")]


_KIND_ROWS = {
    "receipt": _materials_rows,
    "acceptance": _acceptance_rows,
    "correction": _correction_rows,
    "correction_receipt": _materials_rows,
    "refusal": _refusal_rows,
    "decision": _decision_rows,
    "delivery": _delivery_rows,
    "special_procedure": _special_procedure_rows,
    "payment_notice": _payment_notice_rows,
}


def public_facts(document: CaseDocument) -> list[tuple[str, str]]:
    """Label and value pairs safe to show anyone holding the code: no full ID or phone."""
    f = document.facts
    return [
        ("文书", f.get("title", KINDS.get(document.kind, document.kind))),
        ("办件编号", f.get("case_number", "")),
        ("出具机构", f.get("authority") or f.get("center_name", "")),
        ("出具日期", zh_date(f.get("issued_date"))),
        ("申请人", mask_name(f.get("applicant_name"), f.get("applicant_type", "person"))),
        ("证件号码", f.get("applicant_id_masked", "")),
        ("办理事项", f.get("item_name", "")),
        *_KIND_ROWS.get(document.kind, lambda _f: [])(f),
    ]
