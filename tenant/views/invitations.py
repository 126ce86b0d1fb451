"""The public invitation page: the holder of the link accepts or declines joining a client."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import access
from core.extensions import db, limiter
from core.tenancy import require_reseller
from tenant.forms import InvitationAnswerForm
from tenant.invitations import ACCEPT, DECLINE, accept, decline, pending_from_token
from tenant.views.blueprints import invitations_bp


@invitations_bp.route("/invitation/<token>", methods=["GET", "POST"])
@access.public
@limiter.limit("20 per minute", methods=["POST"])
def answer(token: str):
    """Public: the link decides (another reseller's host or a used link is a 404)."""
    reseller = require_reseller()
    found = pending_from_token(token, reseller.id)
    if found is None:
        flash(_("This link is invalid, was already used or has expired."), "error")
        abort(404)
    account, inviter = found
    if request.method == "POST":
        decision = InvitationAnswerForm().decision.data
        if decision not in (ACCEPT, DECLINE):
            abort(400)
        client_name, has_password = account.client.trade_name, bool(account.login.password_hash)
        if decision == ACCEPT:
            accept(account)
        else:
            decline(account)
        db.session.commit()
        if decision == DECLINE:
            flash(_("Invitation declined: you were not added to %(client)s.", client=client_name), "info")
        elif has_password:
            message = _(
                "Invitation accepted: log in and choose %(client)s among your accounts.", client=client_name
            )
            flash(message, "success")
        else:
            flash(_("Invitation accepted: we e-mailed you a link to choose your password."), "success")
        return redirect(url_for("auth.login")), 303
    return render_template(
        "tenant/invitation.html",
        client=account.client,
        inviter=inviter,
        email=account.login.email,
        name=account.name,
    )
