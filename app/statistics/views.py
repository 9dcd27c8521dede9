"""The statistics page and its Excel download (leaders, supervisors, department heads)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from app.cases import pdf as renderer
from app.cases.progress import bpmn_file, diagram_download
from app.clock import center_clock
from app.engine import platform_runtime
from app.extensions import db
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Department
from app.policy import requires
from app.vocabulary import CaseChannel
from workflows.errors import NotFound

from . import bottlenecks, facts, rankings, services
from .spreadsheet import RATES, VOLUME, percent, workbook


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _filters(scope) -> services.Filters:
    args = request.args
    kind = args.get("period") if args.get("period") in services.PERIODS else "month"
    anchor = _day(args.get("day")) or center_clock(db.session).today()
    start, end = services.period(kind, anchor, _day(args.get("start")), _day(args.get("end")))
    towns = {r.id for r in services.townships(db.session, scope)}
    region = args.get("region", type=int)
    channel = args.get("channel")
    return services.Filters(
        start=start,
        end=end,
        region_id=region if region in towns else None,
        item_id=args.get("item", type=int),
        department_id=args.get("department", type=int),
        channel=channel if CaseChannel.parse(channel) else None,
    )


@requires("statistics")
def index():
    scope = services.scope_of(db.session, current_user)
    filters = _filters(scope)
    report = services.report(db.session, scope, filters)
    trend = facts.trend(db.session, scope, filters)
    return render_template(
        "statistics/index.html",
        scope=scope,
        filters=filters,
        period=request.args.get("period")
        if request.args.get("period") in services.PERIODS
        else "month",
        periods=services.PERIODS,
        report=report,
        dimensions=services.DIMENSIONS,
        volume=VOLUME,
        rates=RATES,
        percent=percent,
        towns=services.townships(db.session, scope),
        items=db.session.scalars(
            select(Item).where(Item.kind != FEEDBACK_KIND).order_by(Item.code)
        ).all(),
        departments=db.session.scalars(
            select(Department)
            .where(Department.id.in_({line.key for line in report.by["department"]} or {0}))
            .order_by(Department.name)
        ).all(),
        channels=CaseChannel.labels(),
        chart=_chart(trend),
    )


def _chart(trend) -> dict:
    return {
        "months": [label for label, _line in trend],
        "received": [line.received for _label, line in trend],
        "decided": [line.decided for _label, line in trend],
        "on_time": [
            round(line.on_time_rate * 100, 2) if line.on_time_rate is not None else None
            for _label, line in trend
        ],
    }


@requires("statistics")
def monthly_report():
    """The month's report as a PDF, with the trend chart (rendered after the transaction)."""
    scope = services.scope_of(db.session, current_user)
    clock = center_clock(db.session)
    anchor = _day(request.args.get("day")) or clock.today()
    start, end = services.period("month", anchor)
    filters = services.Filters(start=start, end=end, region_id=_filters(scope).region_id)
    title = f"政务服务月度统计报告（{start.year}年{start.month}月）"
    page = render_template(
        "statistics/report.html",
        title=title,
        scope=scope,
        report=services.report(db.session, scope, filters, clock),
        chart=_chart(facts.trend(db.session, scope, filters)),
        ranking=rankings.ranking(db.session, scope, filters),
        dimensions=services.DIMENSIONS,
        volume=VOLUME,
        rates=RATES,
        percent=percent,
        issued=clock.today(),
    )
    db.session.close()  # the slow part runs with no transaction open
    content = renderer.html_to_pdf(page)
    response = Response(content, mimetype="application/pdf")
    name = f"月度统计报告_{start:%Y%m}.pdf"
    response.headers["Content-Disposition"] = (
        f"inline; filename=report.pdf; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@requires("statistics")
def export():
    scope = services.scope_of(db.session, current_user)
    filters = _filters(scope)
    content = workbook(services.report(db.session, scope, filters))
    name = f"统计分析_{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.xlsx"
    response = Response(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=statistics.xlsx; filename*=UTF-8''{quote(name)}"
    )
    return response


RANKING_PERIODS = {"week": "周", "month": "月"}


def _ranking_filters(scope) -> tuple[str, services.Filters]:
    kind = request.args.get("period") if request.args.get("period") in RANKING_PERIODS else "week"
    anchor = _day(request.args.get("day")) or center_clock(db.session).today()
    start, end = services.period(kind, anchor)
    return kind, services.Filters(start=start, end=end)


@requires("statistics")
def ranking():
    """红黑榜 of the week or the month, with the rules that made it."""
    scope = services.scope_of(db.session, current_user)
    kind, filters = _ranking_filters(scope)
    return render_template(
        "statistics/ranking.html",
        kind=kind,
        periods=RANKING_PERIODS,
        filters=filters,
        scope=scope,
        ranking=rankings.ranking(db.session, scope, filters),
        kinds=rankings.KINDS,
        percent=percent,
    )


@requires("statistics")
def bulletin():
    """The printable 通报 of a week's or a month's 红黑榜."""
    scope = services.scope_of(db.session, current_user)
    kind, filters = _ranking_filters(scope)
    return render_template(
        "statistics/bulletin.html",
        kind=kind,
        filters=filters,
        scope=scope,
        ranking=rankings.ranking(db.session, scope, filters),
        kinds=rankings.KINDS,
        percent=percent,
        week=filters.start.isocalendar().week,
        issued=center_clock(db.session).today(),
    )


def _item(item_id: int | None) -> Item | None:
    item = db.session.get(Item, item_id or 0)
    if item is None or item.kind == FEEDBACK_KIND or not item.process_id:
        return None
    return item


@requires("statistics")
def bottleneck():
    """An item's diagram with each step coloured by its median working time."""
    scope = services.scope_of(db.session, current_user)
    filters = _filters(scope)
    items = db.session.scalars(
        select(Item)
        .where(Item.kind != FEEDBACK_KIND, Item.process_id.is_not(None))
        .order_by(Item.code)
    ).all()
    item = _item(filters.item_id) or (items[0] if items else None)
    figures = bottlenecks.steps(db.session, scope, filters, item) if item else {}
    bands = bottlenecks.scale(figures)
    top = max((f["median"] for f in figures.values() if f["median"] is not None), default=0)
    return render_template(
        "statistics/bottleneck.html",
        item=item,
        items=items,
        filters=filters,
        period=request.args.get("period")
        if request.args.get("period") in services.PERIODS
        else "month",
        periods=services.PERIODS,
        towns=services.townships(db.session, scope),
        figures=figures,
        marks={"bands": bands, "figures": figures},
        legend=[
            (band, round(top * band / 5, 1), round(top * (band + 1) / 5, 1)) for band in range(5)
        ],
        percent=percent,
    )


@requires("statistics")
def item_diagram(item_id: int):
    """The newest deployed diagram of an item (for the viewer; a download otherwise)."""
    item = _item(item_id)
    if item is None:
        abort(404)
    try:
        definition = platform_runtime(db.session).definition(item.process_id)
    except NotFound:
        abort(404)
    content = bpmn_file(definition)
    if content is None:
        abort(404)
    return diagram_download(content, f"{item.process_id}.bpmn")
