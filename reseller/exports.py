"""Writing the client list to XLSX: streamed, typed, and formula-safe."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.timeutil import LOCAL_TZ, local_date
from reseller.client_list import ClientFilters, base_select
from reseller.states import ClientStatusFilter
from tenant.models import Client

EXPORT_COLUMNS = (
    Client.id,
    Client.trade_name,
    Client.legal_name,
    Client.plan_name,
    Client.status,
    Client.inactivated_at,
    Client.sessions_remaining,
    Client.suspended,
    Client.due_date,
    Client.last_payment_date,
    Client.created_at,
)
# Text starting with one of these could be read as a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
# XML 1.0 forbids these control characters; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BATCH = 2000


def headers() -> list[str]:
    return [
        _("ID"),
        _("Trade name"),
        _("Legal name"),
        _("Plan"),
        _("Status"),
        _("Sessions remaining"),
        _("Suspended"),
        _("Due date"),
        _("Last payment date"),
        _("Created date"),
    ]


def text_cell(ws, value: str):
    """A string cell that is always text, whatever it starts with."""
    cleaned = _ILLEGAL_XML.sub("", value)
    if cleaned.startswith(FORMULA_TRIGGERS) or cleaned != value:
        cell = WriteOnlyCell(ws, value=cleaned)
        cell.data_type = "s"
        return cell
    return cleaned


def export_rows(session, reseller_id: int, filters: ClientFilters):
    """Stream (id, trade, legal, plan, status, ...) rows of the filtered list, in list order."""
    stmt = filters.order(filters.apply(base_select(reseller_id, *EXPORT_COLUMNS)))
    return session.execute(stmt.execution_options(stream_results=True, yield_per=BATCH))


def write_xlsx(target, rows: Iterable, *, progress: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` to ``target`` (path or file); returns how many were written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Clients"))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in headers():
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    labels = {
        ClientStatusFilter.ACTIVE: _("Active"),
        ClientStatusFilter.WITHOUT_PLAN: _("Without plan"),
        ClientStatusFilter.INACTIVATED: _("Inactivated"),
        True: _("Yes"),
        False: _("No"),
    }
    count = 0
    append = ws.append
    for cid, trade, legal, plan, status, inactivated_at, remaining, suspended, due, paid, created in rows:
        append(
            [
                cid,
                text_cell(ws, trade),
                text_cell(ws, legal),
                text_cell(ws, plan) if plan else None,
                labels[ClientStatusFilter.INACTIVATED] if inactivated_at is not None else labels[status],
                remaining,
                labels[bool(suspended)],
                due,
                paid,
                local_date(created),
            ]
        )
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(count)
    wb.save(target)
    return count


def export_file_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(LOCAL_TZ)).strftime("%Y-%m-%d-%H%M")
    prefix = _("clients")
    return f"{prefix}-{stamp}.xlsx"
