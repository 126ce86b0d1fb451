"""The teams page (chat level 6): teams, their members, and the inbound channel's switch."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db
from core.tenancy import current_client, get_or_404
from core.validation import parse_int
from tenant import directory, inbox, users
from tenant.forms import TeamForm, TeamMembersForm
from tenant.inbox_models import Team
from tenant.views.blueprints import bp


def _require_manage_inbox() -> None:
    if not inbox.can_manage_inbox(current_account):
        abort(403)


def _back():
    return redirect(url_for("tenant.teams")), 303


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    _require_manage_inbox()
    if request.method == "POST":
        form = TeamForm()
        if not form.validate():
            flash(form.name.errors[0], "error")
        elif directory.add_team(current_client, form.name.data) is None:
            flash(_("A team with this name already exists."), "error")
        else:
            db.session.commit()
            flash(_("Team %(name)s created.", name=form.name.data), "success")
        return _back()
    return render_template(
        "tenant/teams.html",
        client=current_client,
        teams=directory.teams_of(current_client),
        users=users.assignable_users(current_client),
    )


@bp.post("/channel")
def channel():
    """Level 6: turn on the inbound channel, or rotate its secret (the old one stops
    working at once)."""
    _require_manage_inbox()
    if directory.turn_on_or_rotate_channel(current_client):
        flash(_("New channel secret created: update it where your messages come from."), "success")
    else:
        flash(_("Channel turned on."), "success")
    db.session.commit()
    return _back()


@bp.post("/teams/<int:team_id>/members")
def team_members(team_id: int):
    _require_manage_inbox()
    team = get_or_404(Team, team_id)
    wanted = {parse_int(v, min=1) for v in TeamMembersForm().account_id.data or []}
    allowed = {a.id for a in users.assignable_users(current_client)}
    if not wanted <= allowed:  # a value that is no id (None) is never allowed
        abort(404)
    directory.set_team_members(team, wanted)
    db.session.commit()
    flash(_("Members of %(name)s saved.", name=team.name), "success")
    return _back()
