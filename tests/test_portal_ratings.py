"""The requester's rating of a finished ticket (issue 15): once, 1 to 5 with an optional
comment, only by the requester and only once the ticket is resolved, never by staff
logged in as them; in the portal or from the e-mailed link, whose page rates only when
confirmed (a GET never does), and which is refused expired, tampered, used or on another
reseller's host. The average shows on the client's page."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from auth.models import Account
from core.extensions import db
from core.models import AuditEvent
from desk import ratings
from desk.review_models import TicketRating
from desk.states import EventType, RatingSource
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused
from tests.review_setup import CANONICAL, build, events, impersonating, links, resolve, signed_in


@pytest.fixture
def setup(app, factory, tenants, make_browser):
    """A desk without review: the agent's resolution finishes the ticket at once."""
    built = build(app, factory, tenants, review_days=None)
    built.agent_browser = signed_in(make_browser, "agente@a.test")
    return built


@pytest.fixture
def resolved(app, setup, mailbox, run_jobs):
    """The ticket resolved by the agent; the rating e-mail's five links (paths)."""
    mailbox.clear()
    resolve(app, setup.agent_browser, setup)
    run_jobs()
    [message] = mailbox.to("pedro@alpha.test")
    found = [link for link in links(message) if "/rate/" in link]
    assert len(found) == 5 and all(link.startswith(f"{CANONICAL}/rate/") for link in found)
    return [link.removeprefix(CANONICAL) for link in found]


def rows(app) -> list[TicketRating]:
    with app.app_context():
        return db.session.scalars(select(TicketRating).order_by(TicketRating.id)).all()


def test_the_requester_rates_once_in_the_portal(app, setup, resolved, make_browser):
    pedro = signed_in(make_browser, "pedro@alpha.test")
    response = pedro.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "4", "comment": "Rápido!"})
    assert response.status_code == 302
    again = pedro.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "1", "comment": "Mudei de ideia"})
    assert again.status_code == 302
    [rating] = rows(app)
    assert (rating.score, rating.comment, rating.source) == (4, "Rápido!", RatingSource.PORTAL)
    assert rating.account_id == setup.requester.id
    [rated] = events(app, setup.ticket_id, EventType.RATED)
    assert rated.author == setup.requester.id and rated.after["score"] == 4
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.rated"))
    panel = setup.agent_browser.get(f"/reseller/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="review-rating" data-score="4"' in panel and "Rápido!" in panel


@pytest.mark.parametrize(
    "form", [{"score": "0"}, {"score": "6"}, {"score": "quatro"}, {}, {"score": "5", "comment": "x" * 2001}]
)
def test_scores_outside_1_to_5_and_long_comments_are_refused(app, setup, resolved, make_browser, form):
    pedro = signed_in(make_browser, "pedro@alpha.test")
    assert pedro.post(f"/app/tickets/{setup.ticket_id}/rate", form).status_code == 302
    assert rows(app) == []


def test_only_the_requester_rates_and_only_once_finished(app, factory, tenants, make_browser, setup):
    pedro = signed_in(make_browser, "pedro@alpha.test")
    pedro.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "5"})  # still new: not rated
    resolve(app, setup.agent_browser, setup)
    chief = signed_in(make_browser, "chefe@alpha.test")  # sees the ticket, did not ask for it
    chief.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "5"})
    colleague = signed_in(make_browser, "colega@alpha.test")  # does not even see it
    assert colleague.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "5"}).status_code == 404
    assert rows(app) == []


def test_a_ticket_awaiting_review_is_not_rated_until_accepted(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    reviewed = build(app, factory, tenants, review_days=3)
    resolve(app, signed_in(make_browser, "agente@a.test"), reviewed)
    pedro = signed_in(make_browser, "pedro@alpha.test")
    pedro.post(f"/app/tickets/{reviewed.ticket_id}/rate", {"score": "5"})
    assert rows(app) == []
    mailbox.clear()
    pedro.post(f"/app/tickets/{reviewed.ticket_id}/accept")
    run_jobs()
    assert [m for m in mailbox.to("pedro@alpha.test") if "/rate/" in m["text"]]  # the links, on acceptance
    pedro.post(f"/app/tickets/{reviewed.ticket_id}/rate", {"score": "5"})
    assert [r.score for r in rows(app)] == [5]


def test_staff_logged_in_as_the_requester_never_rate(app, setup, resolved, make_browser):
    acting = impersonating(make_browser, setup, setup.requester.id)
    assert acting.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "5"}).status_code == 403
    link = acting.get(resolved[4])
    assert link.status_code == 403 and 'id="confirm-rating"' not in link.get_data(as_text=True)
    assert acting.post(resolved[4], {"score": "5"}).status_code == 403
    assert rows(app) == []


def test_a_rating_that_races_another_gets_a_message_not_an_error(app, setup, resolved, monkeypatch):
    monkeypatch.setattr(ratings, "rating_of", lambda ticket: None)  # both tries saw none yet
    with app.app_context():
        ticket = db.session.get(Ticket, setup.ticket_id)
        pedro = db.session.get(Account, setup.requester.id)
        ratings.rate(ticket, pedro, 5, "", source=RatingSource.PORTAL)
        with pytest.raises(TicketRefused, match="already rated|já foi avaliado"):
            ratings.rate(ticket, pedro, 2, "", source=RatingSource.EMAIL)
        db.session.commit()
    assert [r.score for r in rows(app)] == [5]


def test_the_mailed_link_shows_a_page_and_only_its_confirmation_rates(app, setup, resolved, make_browser):
    anonymous = make_browser()
    page = anonymous.get(resolved[2])  # score 3, without a login
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="confirm-rating"' in html
    assert 'value="3" id="link-score-3" autocomplete="off" required checked' in html
    assert rows(app) == []  # mail scanners follow links: a GET never rates
    path = urlsplit(resolved[2]).path
    done = anonymous.post(path, {"score": "3", "comment": "Bom atendimento"})
    assert done.status_code == 200 and 'data-done="yes"' in done.get_data(as_text=True)
    [rating] = rows(app)
    assert (rating.score, rating.comment, rating.source) == (3, "Bom atendimento", RatingSource.EMAIL)
    assert events(app, setup.ticket_id, EventType.RATED)[0].author == setup.requester.id
    # Used: another score from the same e-mail is refused, and nothing changes.
    assert anonymous.get(resolved[4]).status_code == 410
    assert anonymous.post(urlsplit(resolved[4]).path, {"score": "5"}).status_code == 410
    assert [r.score for r in rows(app)] == [3]


def test_the_link_page_refuses_a_bad_score_without_rating(app, setup, resolved, make_browser):
    anonymous = make_browser()
    refused = anonymous.post(urlsplit(resolved[0]).path, {"score": "9"})
    assert refused.status_code == 400 and 'id="rating-error"' in refused.get_data(as_text=True)
    assert rows(app) == []


def past_token(app, ticket_id: int, days: int) -> str:
    """A rating token for the ticket signed ``days`` ago."""

    class Signed(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days * 24 * 3600

    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=ratings.LINK_SALT, signer=Signed)
        return serializer.dumps([ticket.id, ticket.requester_account_id, ticket.reseller_id])


def test_a_link_older_than_14_days_is_refused(app, setup, resolved, make_browser):
    anonymous = make_browser()
    assert anonymous.get(f"/rate/{past_token(app, setup.ticket_id, 13)}?score=5").status_code == 200
    old = past_token(app, setup.ticket_id, 15)
    page = anonymous.get(f"/rate/{old}?score=5")
    assert page.status_code == 410 and 'id="confirm-rating"' not in page.get_data(as_text=True)
    assert anonymous.post(f"/rate/{old}", {"score": "5"}).status_code == 410
    assert rows(app) == []


def test_a_tampered_link_or_one_of_another_kind_is_unknown(app, setup, resolved, make_browser):
    anonymous = make_browser()
    token = urlsplit(resolved[4]).path.removeprefix("/rate/")
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with app.app_context():
        other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="client-user-invitation")
        other = other_salt.dumps([setup.ticket_id, setup.requester.id, setup.a.id])
    for bad in (tampered, other, "nada"):
        assert anonymous.get(f"/rate/{bad}?score=5").status_code == 404
        assert anonymous.post(f"/rate/{bad}", {"score": "5"}).status_code == 404
    assert rows(app) == []


def test_the_link_is_refused_on_another_resellers_host(app, setup, resolved, make_browser):
    elsewhere = make_browser("b.test")
    assert elsewhere.get(resolved[4]).status_code == 404
    assert elsewhere.post(urlsplit(resolved[4]).path, {"score": "5"}).status_code == 404
    assert rows(app) == []


def test_the_client_page_and_the_desks_page_show_the_average_rating(
    app, factory, setup, resolved, make_browser
):
    owner = signed_in(make_browser, "owner@a.test")
    empty = owner.get(f"/reseller/clients/{setup.a.client.id}").get_data(as_text=True)
    assert 'id="report-rating" data-count="0"' in empty
    second = factory.ticket(setup.a.client.id, desk_id=setup.desk.id, kind="resolved")
    with app.app_context():
        for ticket_id, score in ((setup.ticket_id, 4), (second.id, 5)):
            ticket = db.session.get(Ticket, ticket_id)
            ratings.rate(
                ticket, db.session.get(Account, ticket.requester_account_id), score, "", source="portal"
            )
        db.session.commit()
        assert ratings.client_rating(setup.a.id, setup.a.client.id) == ratings.ClientRating(4.5, 2)
    page = owner.get(f"/reseller/clients/{setup.a.client.id}").get_data(as_text=True)
    assert 'id="report-rating" data-count="2"' in page and "4,5" in page
    # The reseller's desks page: each desk's average, the same ratings counted by desk.
    desks = owner.get("/reseller/desks").get_data(as_text=True)
    assert 'data-rating="4.5"' in desks
    with app.app_context():
        assert ratings.desk_ratings(setup.a.id) == {setup.desk.id: ratings.ClientRating(4.5, 2)}


def test_the_ticket_page_offers_the_rating_to_the_requester_only(app, setup, resolved, make_browser):
    pedro = signed_in(make_browser, "pedro@alpha.test")
    mine = pedro.get(f"/app/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="ticket-rate"' in mine and 'id="ticket-reopen"' in mine
    chief = signed_in(make_browser, "chefe@alpha.test")
    theirs = chief.get(f"/app/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="ticket-rate"' not in theirs and 'id="ticket-reopen"' in theirs  # sees all: may reopen
    pedro.post(f"/app/tickets/{setup.ticket_id}/rate", {"score": "2", "comment": "Demorou"})
    rated = pedro.get(f"/app/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="ticket-rating" data-score="2"' in rated and 'id="ticket-rate"' not in rated
