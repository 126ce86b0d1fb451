"""The client's dashboard (issue 15, seed 004): the tickets of the last 30 local days a
user sees (own and followed; the whole client's with *see all the client's tickets*),
their numbers equal to a direct count over the tables; the neighbour's and another
reseller's never counted; 403 without *portal*; staff logged in as the user see exactly
the user's page; the charts' tables readable without JavaScript."""

from __future__ import annotations

import pytest

from auth import permissions as perm
from core.timeutil import today_local, utcnow
from tests.portal_reports_setup import count, period_start, scenario, set_permissions, table, text_of

CLIENT_TICKETS = "SELECT count(*) FROM tickets WHERE client_id = :c AND created_at >= :start"
FOLLOWED = "SELECT ticket_id FROM ticket_followers WHERE account_id = :a"
OWN_OR_FOLLOWED = f"{CLIENT_TICKETS} AND (requester_account_id = :a OR id IN ({FOLLOWED}))"


@pytest.fixture
def world(app, factory, tenants):
    with app.app_context():
        return scenario(factory, tenants)


@pytest.fixture
def page_of(make_browser):
    def _page(email: str) -> str:
        browser = make_browser()
        browser.login(email)
        response = browser.get("/app/portal")
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    return _page


def number(html: str, element_id: str) -> int:
    return int(text_of(html, element_id).split()[-1])


def test_the_whole_clients_numbers_equal_a_direct_count(app, world, page_of):
    page = page_of("boss@alpha.test")
    start = period_start()
    opened = count(app, CLIENT_TICKETS, c=world.client_id, start=start)
    resolved = count(
        app,
        "SELECT count(*) FROM tickets WHERE client_id = :c AND resolved_at >= :s",
        c=world.client_id,
        s=start,
    )
    assert (opened, resolved) == (5, 2)
    assert number(page, "dashboard-opened") == opened
    assert number(page, "dashboard-resolved") == resolved
    # Every local day of the 30 has its row; the rows add up to the same counts.
    per_day = table(page, "report-tickets")
    assert len(per_day) == 30
    assert sum(int(row[1]) for row in per_day) == opened
    assert sum(int(row[2]) for row in per_day) == resolved
    by_desk = {row[0]: int(row[1]) for row in table(page, "report-desks")}
    assert by_desk == {
        name: count(app, CLIENT_TICKETS + " AND desk_id = :d", c=world.client_id, start=start, d=desk_id)
        for name, desk_id in world.desks.items()
    }
    # The statuses as the client sees them: 2 new, 1 answered, 2 resolved.
    statuses = {row[0]: int(row[1]) for row in table(page, "report-statuses")}
    assert statuses == {"Recebido": 2, "Em andamento": 1, "Resolvido": 2}
    assert "Too old" not in page


def test_first_response_and_resolution_against_the_sla(app, world, page_of):
    page = page_of("boss@alpha.test")
    params = {"c": world.client_id, "start": period_start(), "now": utcnow()}
    met = count(
        app,
        CLIENT_TICKETS + " AND first_responded_at IS NOT NULL AND first_response_due_at IS NULL",
        **params,
    )
    breached = count(
        app,
        CLIENT_TICKETS + " AND first_response_due_at IS NOT NULL"
        " AND (first_responded_at IS NOT NULL OR first_response_due_at <= :now)",
        **params,
    )
    running = count(
        app, CLIENT_TICKETS + " AND first_response_due_at > :now AND first_responded_at IS NULL", **params
    )
    # Own's and peer's answered tickets met it; peer's late one breached; the tickets on
    # the desk without an SLA count in neither; nothing is still running.
    assert (met, breached, running) == (2, 1, 0)
    first = text_of(page, "dashboard-first-response")
    assert "66,7% dentro do SLA" in first
    assert "menos de 1 min" in first  # both answers came at once, not "0 h"
    # Resolution: own's ticket on the SLA desk met it; peer's two run on.
    resolution = text_of(page, "dashboard-resolution")
    assert "100% dentro do SLA" in resolution and "2 em andamento" in resolution


def test_a_user_sees_its_own_and_followed_tickets_only(app, world, page_of):
    page = page_of("own@alpha.test")
    mine = count(app, OWN_OR_FOLLOWED, c=world.client_id, start=period_start(), a=world.own_id)
    assert mine == 3
    assert number(page, "dashboard-opened") == mine
    latest = text_of(page, "latest-tickets")
    assert "Own answered" in latest and "Own open" in latest and "Peer followed" in latest
    assert "Peer late" not in page and "Boss resolved" not in page
    # The boss, with every ticket of the client, sees the peer's late one.
    assert "Peer late" in text_of(page_of("boss@alpha.test"), "latest-tickets")


def test_every_latest_ticket_links_to_its_page(world, page_of):
    page = page_of("own@alpha.test")
    for name in ("own_done", "own_open", "peer_followed"):
        assert f'href="/app/tickets/{world.tickets[name]}"' in page


def test_neighbours_and_other_resellers_tickets_are_never_counted(world, page_of):
    page = page_of("boss@alpha.test")
    assert "Neighbour secret" not in page and "Reseller B secret" not in page
    assert "Mesa vizinha" not in page
    assert number(page, "dashboard-opened") == 5


def test_the_average_rating_or_none_yet(world, page_of):
    boss = text_of(page_of("boss@alpha.test"), "dashboard-rating")
    assert "3,5" in boss and "2 avaliações" in boss  # 5 and 2; the 40-day-old 1 left out
    assert "1 avaliação" in text_of(page_of("own@alpha.test"), "dashboard-rating")
    assert "Nenhuma avaliação ainda" in text_of(page_of("peer@alpha.test"), "dashboard-rating")


def test_without_the_portal_permission_the_dashboard_is_a_403(app, world, make_browser):
    set_permissions(app, world.peer_id, [perm.REPORTS])
    browser = make_browser()
    browser.login("peer@alpha.test")
    assert browser.get("/app/portal").status_code == 403


def test_staff_logged_in_as_the_user_see_exactly_the_users_dashboard(
    app, world, page_of, make_browser, factory, tenants
):
    as_user = page_of("own@alpha.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="imp@a.test")
    staff = make_browser()
    staff.login("imp@a.test")
    started = staff.post(f"/reseller/clients/{world.client_id}/users/{world.own_id}/login-as")
    assert started.headers["Location"] == "/app/"
    as_staff = staff.get("/app/portal").get_data(as_text=True)
    for element in ("dashboard-opened", "dashboard-resolved", "dashboard-rating", "latest-tickets"):
        assert text_of(as_staff, element) == text_of(as_user, element)
    assert table(as_staff, "report-desks") == table(as_user, "report-desks")
    assert "Peer late" not in as_staff
    # The user's permissions, not the staff's: without *portal*, a 403 for both.
    set_permissions(app, world.own_id, [])
    assert staff.get("/app/portal").status_code == 403


def test_the_charts_draw_from_accessible_tables_and_scripts_of_our_own(world, page_of):
    page = page_of("boss@alpha.test")
    assert 'data-chart="line"' in page and 'data-chart="doughnut"' in page
    assert '<th scope="col" data-series' in page and '<caption class="visually-hidden">' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page and "/static/app/charts.js" in page
    assert "<script>" not in page  # the CSP forbids inline scripts
    # Days are local days: today's row is the last one.
    assert table(page, "report-tickets")[-1][0] == today_local().strftime("%d/%m/%Y")


def test_average_times_read_in_hours_and_minutes(app):
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        duration = app.jinja_env.globals["business_duration"]
        assert [duration(m) for m in (None, 45, 60, 150)] == ["—", "45 min", "1 h", "2 h 30 min"]
