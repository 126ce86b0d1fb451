"""Writing the client list to XLSX: streamed, typed, and formula-safe."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from itertools import chain, islice

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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
# Excel dates shown the Brazilian way, whatever the reader's locale.
DATE_FORMAT = "dd/mm/yyyy"
# Column widths, in characters, fitted to the first BATCH rows (the whole of any file
# made at once) between these bounds.
MIN_WIDTH, MAX_WIDTH = 6, 60


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


def date_cell(ws, value: date | None):
    """An Excel date (a number) shown as dd/mm/yyyy; ``None`` stays an empty cell."""
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = DATE_FORMAT
    return cell


def _shown_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return len("00/00/0000")
    return len(str(value))


def set_column_widths(ws, lines: list[list]) -> None:
    """Fit each column to the longest value of ``lines`` (header included), within bounds.

    In write-only mode the widths must be set before the first row is written.
    """
    for index, values in enumerate(zip(*lines, strict=True), start=1):
        longest = max(_shown_length(v) for v in values)
        ws.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))


def _shown_values(rows: Iterable) -> Iterator[list]:
    """Each exported row as the values its cells show (labels, local dates)."""
    labels = {
        ClientStatusFilter.ACTIVE: _("Active"),
        ClientStatusFilter.WITHOUT_PLAN: _("Without plan"),
        ClientStatusFilter.INACTIVATED: _("Inactivated"),
        True: _("Yes"),
        False: _("No"),
    }
    for cid, trade, legal, plan, status, inactivated_at, remaining, suspended, due, paid, created in rows:
        yield [
            cid,
            trade,
            legal,
            plan,
            labels[ClientStatusFilter.INACTIVATED] if inactivated_at is not None else labels[status],
            remaining,
            labels[bool(suspended)],
            due,
            paid,
            local_date(created),
        ]


def write_xlsx(target, rows: Iterable, *, progress: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` to ``target`` (path or file); returns how many were written.

    The header row is frozen, dates are Excel dates shown as dd/mm/yyyy, and the column
    widths fit the content of the first rows.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Clients"))
    ws.freeze_panes = "A2"
    titles = headers()
    values = _shown_values(rows)
    first = list(islice(values, BATCH))
    set_column_widths(ws, [titles, *first])
    bold = Font(bold=True)
    header = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    # One styled cell per date column, given each row's value: a write-only sheet writes
    # a row when it is appended, so the cell is free again for the next row (a new
    # styled cell per date costs a fifth of the export's time).
    date_cells = [date_cell(ws, date.min) for _column in range(3)]
    count = 0
    append = ws.append
    for cid, trade, legal, plan, status, remaining, suspended, *dates in chain(first, values):
        line = [
            cid,
            text_cell(ws, trade),
            text_cell(ws, legal),
            text_cell(ws, plan) if plan else None,
            status,
            remaining,
            suspended,
        ]
        for cell, day in zip(date_cells, dates, strict=True):
            if day is None:
                line.append(None)
            else:
                cell.value = day
                line.append(cell)
        append(line)
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(count)
    wb.save(target)
    return count


def export_file_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(LOCAL_TZ)).strftime("%Y-%m-%d-%H%M")
    prefix = _("clients")
    return f"{prefix}-{stamp}.xlsx"
