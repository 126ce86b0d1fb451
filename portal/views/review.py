"""The client's answer to a resolved ticket (issue 15): accept the resolution, reopen
it with a reason, rate it (``/app/tickets/<id>/accept|reopen|rate``, shown by
``portal/_ticket_review.html`` on the ticket page), and the page an e-mailed rating link
opens (``/rate/<token>``, without a login: a GET shows the choice, only its POST rates).

The ticket is the one the user sees (``portal.tickets.visible_ticket``), else a 404;
the rules (``desk.review``, ``desk.ratings``) decide who may do what. Staff logged in as
the user may accept or reopen (the timeline records them acting for the user) but never
rate: the rating is the user's own word.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission, is_impersonating
from core.access import public
from core.extensions import db
from core.outcomes import commit_or_refuse
from core.tenancy import require_reseller
from core.validation import parse_int
from desk import ratings, review
from desk.states import RatingSource
from desk.tickets import TicketRefused
from portal.tickets import visible_ticket
from portal.views.blueprints import bp, rating_bp

# The client's ticket page (portal/views/tickets.py): where the forms come back to.
TICKET_PAGE = "portal.ticket_page"


@bp.app_template_global()
def ticket_review(ticket, account=None):
    """What the ticket pages show of the review and the rating: the portal's partial
    with the client user looking (what they may do), the staff panel without one."""
    return review.review_state(ticket, account)


def _answer(ticket_id: int, change, success: str):
    """Run ``change(ticket)`` on a ticket the user sees (else 404, before anything); commit
    and say ``success``, or roll back and say why."""
    if not has_permission(perm.PORTAL):
        abort(403)
    ticket = visible_ticket(current_account, ticket_id, for_update=True)
    if ticket is None:
        abort(404)
    commit_or_refuse(lambda: change(ticket), TicketRefused, success)
    return redirect(url_for(TICKET_PAGE, ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/accept")
def ticket_accept(ticket_id: int):
    return _answer(
        ticket_id, lambda t: review.accept(t, current_account), _("Thank you: the resolution is accepted.")
    )


@bp.post("/tickets/<int:ticket_id>/reopen")
def ticket_reopen(ticket_id: int):
    return _answer(
        ticket_id,
        lambda t: review.reopen(t, current_account, request.form.get("reason")),
        _("The ticket is reopened: the team will look at it again."),
    )


@bp.post("/tickets/<int:ticket_id>/rate")
def ticket_rate(ticket_id: int):
    if is_impersonating():
        abort(403)  # the rating is the user's own word, never staff's on their behalf
    return _answer(
        ticket_id,
        lambda t: ratings.rate(
            t,
            current_account,
            request.form.get("score"),
            request.form.get("comment"),
            source=RatingSource.PORTAL,
        ),
        _("Thank you for your rating."),
    )


@rating_bp.route("/<token>", methods=["GET", "POST"])
@public
def rate_page(token: str):
    """The e-mailed link's page: the score chosen in the e-mail preselected, a comment,
    and one button that rates (a GET never does: mail scanners follow links)."""
    reseller = require_reseller()
    if is_impersonating():
        return _link_page(_("Staff logged in as a user cannot rate a ticket on the user's behalf."), 403)
    try:
        ticket, account = ratings.ticket_of_link(token, reseller.id)
    except ratings.LinkRefused as refused:
        return _link_page(refused.message, refused.status)
    score = parse_int(request.values.get("score"), min=1, max=5)
    comment = request.form.get("comment") or ""
    error = None
    if request.method == "POST":
        try:
            ratings.rate(ticket, account, score, comment, source=RatingSource.EMAIL)
        except TicketRefused as refused:
            db.session.rollback()
            error = refused.message
        else:
            db.session.commit()
            return _link_page(_("Thank you for your rating."), 200, done=True)
    return render_template(
        "portal/rating_link.html",
        ticket=ticket,
        token=token,
        score=score,
        comment=comment,
        error=error,
        scores=ratings.SCORES,
        max_comment=ratings.MAX_COMMENT,
    ), (400 if error else 200)


def _link_page(message: str, status: int, *, done: bool = False):
    return render_template("portal/rating_message.html", message=message, done=done), status
