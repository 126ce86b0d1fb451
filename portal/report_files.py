"""A report's rows as a file to download: XLSX (typed, header frozen, widths fitted) or
CSV (UTF-8 with a byte-order mark, so spreadsheets read the accents; ';' and a decimal
comma in Portuguese). Text never runs
as a formula in either (``core.spreadsheets``), as in the reseller's client export."""

from __future__ import annotations

from io import BytesIO, StringIO

from openpyxl import Workbook

from core.spreadsheets import csv_row, csv_writer, header_cells, set_column_widths, text_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
# Excel refuses sheet titles longer than this.
SHEET_TITLE = 31


def _lines(report) -> list[list]:
    return [*report.rows, *([report.footer] if report.footer else [])]


def xlsx_bytes(report) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(report.title[:SHEET_TITLE])
    ws.freeze_panes = "A2"
    lines = _lines(report)
    set_column_widths(ws, [report.columns, *lines])
    ws.append(header_cells(ws, report.columns))
    for line in lines:
        ws.append([text_cell(ws, value) if isinstance(value, str) else value for value in line])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(report) -> bytes:
    out = StringIO()
    writer = csv_writer(out)
    writer.writerow(csv_row(report.columns))
    for line in _lines(report):
        writer.writerow(csv_row(line))
    return out.getvalue().encode("utf-8-sig")
