"""The client's reports (``/app/reports``, client users with *reports*): every ticket of
the client over a period, each report with its chart, table and downloads
(``/app/reports/<report>.xlsx|csv``, the same rows)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from auth import permissions as perm
from auth.access import current_account, require_permission
from core.timeutil import today_local, utcnow
from portal import report_files, report_periods, reports
from portal.states import Grouping, ReportName
from portal.views.blueprints import bp

GROUPING_LABELS = {Grouping.DAY: _l("Day"), Grouping.WEEK: _l("Week"), Grouping.MONTH: _l("Month")}
# Reports drawn across the page (a row per group of days, or several series).
WIDE = (ReportName.TICKETS, ReportName.SESSIONS, ReportName.SLA)
FORMATS = {
    "xlsx": (report_files.xlsx_bytes, report_files.XLSX_TYPE),
    "csv": (report_files.csv_bytes, report_files.CSV_TYPE),
}


@bp.get("/reports")
@require_permission(perm.REPORTS)
def reports_page():
    period, problem = report_periods.parse_period(request.args, today_local())
    return render_template(
        "portal/reports.html",
        period=period,
        problem=problem,
        groupings=GROUPING_LABELS,
        wide=WIDE,
        max_days=report_periods.MAX_DAYS,
        reports=reports.client_reports(current_account, period, utcnow()),
    )


@bp.get("/reports/<report>.<any(xlsx, csv):fmt>")
@require_permission(perm.REPORTS)
def report_download(report: str, fmt: str):
    period, _problem = report_periods.parse_period(request.args, today_local())
    found = reports.client_report(current_account, report, period, utcnow())
    if found is None:
        abort(404)
    write, mimetype = FORMATS[fmt]
    name = f"{found.name}-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    return Response(
        write(found),
        content_type=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
