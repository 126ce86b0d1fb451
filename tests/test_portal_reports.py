"""The client's reports (issue 15, seed 004, *reports* permission): every ticket of the
client over a period, whatever *see all the client's tickets* says; each number equal to
a direct count over the tables; a bad or too long period told and replaced by the last
30 days, never a 500; the XLSX and CSV downloads hold the page's rows, text never a
formula; 403 without *reports*, for staff logged in as the user too; another client's
rows never counted."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.spreadsheets import csv_row, csv_writer
from core.timeutil import today_local
from tenant.inbox_models import Contact, SessionWindow
from tenant.states import WindowSource
from tenant.windows import local_midnight_utc
from tests.portal_reports_setup import count, period_start, scenario, set_permissions, table, text_of

CLIENT_TICKETS = "SELECT count(*) FROM tickets WHERE client_id = :c AND created_at >= :start"
REPORTS = ("tickets", "desks", "statuses", "priorities", "requesters", "sla", "ratings", "sessions")


@pytest.fixture
def world(app, factory, tenants):
    with app.app_context():
        return scenario(factory, tenants)


@pytest.fixture
def reader(make_browser, world):
    """The boss: portal, every ticket, reports."""
    browser = make_browser()
    browser.login("boss@alpha.test")
    return browser


def page(browser, query: str = "") -> str:
    response = browser.get(f"/app/reports{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def sessions(app, client_id: int, days_ago: list[int]) -> None:
    """Session windows the client opened that many days ago (one each, 10:00 local)."""
    with app.app_context():
        client_user = db.session.get(
            Account, db.session.scalar(db.select(Account.id).where(Account.client_id == client_id))
        )
        contact = Contact(
            reseller_id=client_user.reseller_id, client_id=client_id, name="C", phone="+5511987650001"
        )
        db.session.add(contact)
        db.session.flush()
        for days in days_ago:
            at = local_midnight_utc(today_local() - timedelta(days=days)) + timedelta(hours=10)
            db.session.add(
                SessionWindow(
                    reseller_id=contact.reseller_id,
                    client_id=client_id,
                    contact_id=contact.id,
                    source=WindowSource.PLAN,
                    opened_at=at,
                    expires_at=at + timedelta(hours=24),
                )
            )
        db.session.commit()


def same(value):
    """A cell as a comparable value: numbers as numbers (the page writes 0.0, the
    workbook reads 0), empty as ""."""
    if value is None:
        return ""
    try:
        return float(value)
    except ValueError:
        return str(value)


def test_every_report_equals_a_direct_count_over_the_clients_tables(app, world, reader):
    sessions(app, world.client_id, [0, 0, 3, 45])
    sessions(app, world.neighbour_id, [0, 1])
    html = page(reader)
    params = {"c": world.client_id, "start": period_start()}
    tickets = table(html, "report-tickets")
    assert len(tickets) == 30
    assert sum(int(r[1]) for r in tickets) == count(app, CLIENT_TICKETS, **params) == 5
    by = {name: {r[0]: int(r[1]) for r in table(html, f"report-{name}")} for name in REPORTS[1:5]}
    assert by["desks"] == {
        name: count(app, CLIENT_TICKETS + " AND desk_id = :d", d=desk_id, **params)
        for name, desk_id in world.desks.items()
    }
    assert by["priorities"] == {
        label: count(app, CLIENT_TICKETS + " AND priority = :p", p=value, **params)
        for label, value in (("Baixa", "low"), ("Normal", "normal"), ("Alta", "high"), ("Urgente", "urgent"))
    }
    assert by["requesters"] == {
        name: count(app, CLIENT_TICKETS + " AND requester_account_id = :a", a=account_id, **params)
        for name, account_id in (
            ("Own User", world.own_id),
            ("Peer User", world.peer_id),
            ("Boss User", world.boss_id),
        )
    }
    assert sum(by["statuses"].values()) == 5
    # SLA: first response met 2, breached 1, running 0; resolution met 1, running 2.
    sla = {r[0]: r[1:4] for r in table(html, "report-sla")}
    assert sla == {"Primeira resposta": ["2", "1", "0"], "Solução": ["1", "0", "2"]}
    ratings = table(html, "report-ratings")
    assert ratings[:5] == [["1", "0"], ["2", "1"], ["3", "0"], ["4", "0"], ["5", "1"]]
    assert ratings[5] == ["Média", "3.5"]
    used = count(
        app, "SELECT count(*) FROM session_windows WHERE client_id = :c AND opened_at >= :start", **params
    )
    assert sum(int(r[1]) for r in table(html, "report-sessions")) == used == 3
    assert "Neighbour secret" not in html and "Reseller B secret" not in html and "Mesa vizinha" not in html


def test_the_reports_are_client_wide_whatever_see_all_says(app, world, make_browser):
    set_permissions(app, world.own_id, [perm.PORTAL, perm.REPORTS])  # not ALL_TICKETS
    browser = make_browser()
    browser.login("own@alpha.test")
    requesters = {r[0] for r in table(page(browser), "report-requesters")}
    assert requesters == {"Own User", "Peer User", "Boss User"}


def test_weeks_and_months_group_the_same_days(world, reader):
    by_day = table(page(reader, "?group=day"), "report-tickets")
    for group in ("week", "month"):
        rows = table(page(reader, f"?group={group}"), "report-tickets")
        assert len(rows) < len(by_day)
        assert sum(int(r[1]) for r in rows) == sum(int(r[1]) for r in by_day) == 5
    months = table(page(reader, "?from=2026-01-01&to=2026-12-31&group=month"), "report-tickets")
    assert [r[0] for r in months][:2] == ["01/2026", "02/2026"] and len(months) == 12


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2025-01-01&to=2026-06-30", "no máximo 366 dias"),
        ("?from=amanhã&to=2026-13-45", "não foram entendidas"),
        ("?from=2026-11-30&to=2026-11-01", "data inicial é posterior"),
        ("?from=0001-01-01&to=9999-12-31", "não foram entendidas"),
    ],
)
def test_a_bad_or_too_long_period_is_told_and_the_last_30_days_shown(world, reader, query, message):
    html = page(reader, query)
    assert message in text_of(html, "report-problem")
    assert len(table(html, "report-tickets")) == 30
    download = reader.get(f"/app/reports/tickets.csv{query}")
    assert download.status_code == 200


def test_366_days_are_accepted(world, reader):
    first = today_local() - timedelta(days=365)
    html = page(reader, f"?from={first.isoformat()}&to={today_local().isoformat()}")
    assert 'id="report-problem"' not in html
    assert len(table(html, "report-tickets")) == 366


def test_the_xlsx_holds_the_pages_rows(world, reader):
    html = page(reader, "?group=week")
    for name in REPORTS:
        response = reader.get(f"/app/reports/{name}.xlsx?group=week")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{name}-')
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        shown = table(html, f"report-{name}")
        assert len(rows) == len(shown) + 1, name  # the header row
        for got, want in zip(rows[1:], shown, strict=True):
            assert [same(v) for v in got] == [same(v) for v in want], name


def test_the_csv_never_carries_a_formula(app, world, reader):
    with app.app_context():
        db.session.get(Account, world.peer_id).name = '=HYPERLINK("http://evil.test","x")'
        db.session.commit()
    response = reader.get("/app/reports/requesters.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.test","x")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    # In the XLSX the same name is a text cell, never a formula.
    sheet = load_workbook(io.BytesIO(reader.get("/app/reports/requesters.xlsx").data)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    evil = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert evil.data_type == "s"


def test_the_csv_is_written_the_way_a_brazilian_spreadsheet_reads_it(world, reader):
    text = reader.get("/app/reports/sla.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    first_response = next(r for r in rows if r[0] == "Primeira resposta")
    assert first_response[1:5] == ["2", "1", "0", "66,7"]  # ';' between fields, a decimal comma


def test_csv_rows_follow_the_readers_decimal_mark(app):
    for language, expected in (("pt-BR", ["'=1+1", "2,5", 3, None]), ("en", ["'=1+1", 2.5, 3, None])):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert csv_row(["=1+1", 2.5, 3, None]) == expected
            out = io.StringIO()
            csv_writer(out).writerow(["a", "b"])
            assert out.getvalue().strip() == ("a;b" if language == "pt-BR" else "a,b")


def test_an_unknown_report_is_a_404(world, reader):
    assert reader.get("/app/reports/secrets.csv").status_code == 404
    assert reader.get("/app/reports/tickets.pdf").status_code == 404


def test_without_the_reports_permission_pages_and_downloads_are_403(
    app, world, make_browser, factory, tenants
):
    browser = make_browser()
    browser.login("own@alpha.test")  # portal only
    assert browser.get("/app/reports").status_code == 403
    assert browser.get("/app/reports/tickets.xlsx").status_code == 403
    set_permissions(app, world.own_id, [perm.PORTAL, perm.ALL_TICKETS])
    assert browser.get("/app/reports/tickets.csv").status_code == 403
    # Staff logged in as the user: the user's permissions, then the user's reports.
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="imp@a.test")
    staff = make_browser()
    staff.login("imp@a.test")
    staff.post(f"/reseller/clients/{world.client_id}/users/{world.own_id}/login-as")
    assert staff.get("/app/reports").status_code == 403
    assert staff.get("/app/reports/sla.csv").status_code == 403
    set_permissions(app, world.own_id, [perm.PORTAL, perm.REPORTS])
    assert table(page(staff), "report-requesters") == table(page(browser), "report-requesters")


def test_no_download_carries_another_clients_or_resellers_rows(app, world, reader):
    sessions(app, world.neighbour_id, [0, 1, 2])
    for name in REPORTS:
        data = reader.get(f"/app/reports/{name}.csv").data.decode("utf-8-sig")
        for secret in ("Mesa vizinha", "Vizinha", "Support"):  # B's ticket is on B's "Support"
            assert secret not in data, (name, secret)
    rows = list(
        csv.reader(
            io.StringIO(reader.get("/app/reports/sessions.csv").data.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert sum(int(r[1]) for r in rows[1:]) == 0
