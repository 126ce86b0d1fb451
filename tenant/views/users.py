"""The client's own users in the workspace (``/app/users``, permission *manage users*).

Thin views over ``tenant.users``: what the current user may grant, change, deactivate
or reactivate is decided there (a client user grants at most what it holds), and the
page offers only that. On the workspace blueprint, behind its guard.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission
from auth.models import Account
from core.extensions import db
from core.tenancy import current_client
from tenant import users as user_rules
from tenant.forms import ClientUserForm
from tenant.views.blueprints import bp


def _require_manage_users() -> None:
    if not has_permission(perm.MANAGE_USERS):
        abort(403)


def _own_user(account_id: int) -> Account:
    user = user_rules.client_user_or_none(current_client, account_id)
    if user is None:
        abort(404)
    return user


def _forbidden(exc: user_rules.ClientUserForbidden):
    db.session.rollback()
    flash(str(exc), "error")
    abort(403)


@bp.route("/users", methods=["GET", "POST"])
def users():
    """List and add the client's users. A new e-mail gets an invitation to choose a
    password; an e-mail that already has a login gets an invitation to accept."""
    _require_manage_users()
    actor = current_account._get_current_object()
    errors: dict[str, str] = {}
    form = ClientUserForm()
    if request.method == "POST":
        try:
            account, _outcome = user_rules.add_user_to_client(
                current_client,
                actor=actor,
                name=form.name.data,
                email=form.email.data,
                chat_level=form.chat_level.data or perm.DEFAULT_CHAT_LEVEL,
                view_phones=form.phones_granted,
                permissions=form.granted_permissions,
            )
        except user_rules.ClientUserForbidden as exc:
            _forbidden(exc)
        except user_rules.ClientUserRejected as exc:
            errors = exc.errors
        else:
            db.session.commit()
            # The same answer whatever the e-mail was (new, a login of other clients or of
            # staff): the inviter learns nothing about other clients or the reseller's staff.
            flash(_("User %(name)s added.", name=account.name), "success")
            return redirect(url_for("tenant.users")), 303
    grant = user_rules.grantable(actor, current_client)
    return render_template(
        "tenant/users.html",
        client=current_client,
        users=user_rules.client_users_of(current_client),
        errors=errors,
        form=form.submitted(),
        # The new user's boxes: as posted, else the defaults (the portal).
        new_permissions=form.granted_permissions
        if request.method == "POST"
        else list(perm.DEFAULT_CLIENT_USER_PERMISSIONS),
        levels={n: label for n, label in perm.CHAT_LEVELS.items() if n <= grant.max_chat_level},
        grant=grant,
        grantable_permissions={
            name: label for name, label in perm.CLIENT_USER_PERMISSIONS.items() if name in grant.permissions
        },
        change_refusal=lambda user: user_rules.change_refusal(actor, user),
        reactivation_refusal=lambda user: user_rules.reactivation_refusal(actor, user),
    ), (422 if errors else 200)


@bp.post("/users/<int:account_id>")
def user_update(account_id: int):
    _require_manage_users()
    user = _own_user(account_id)
    form = ClientUserForm()
    try:
        user_rules.update_client_user(
            user,
            actor=current_account._get_current_object(),
            name=form.name.data,
            chat_level=form.chat_level.data or 0,
            view_phones=form.phones_granted,
            permissions=form.granted_permissions,
        )
    except user_rules.ClientUserForbidden as exc:
        _forbidden(exc)
    except user_rules.ClientUserRejected as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "error")
    else:
        db.session.commit()
        flash(_("User %(name)s saved.", name=user.name), "success")
    return redirect(url_for("tenant.users")), 303


def _set_active(account_id: int, active: bool):
    _require_manage_users()
    user = _own_user(account_id)
    actor = current_account._get_current_object()
    try:
        if active:
            user_rules.reactivate_client_user(user, actor=actor)
        else:
            user_rules.deactivate_client_user(user, actor=actor)
    except user_rules.ClientUserForbidden as exc:
        _forbidden(exc)
    db.session.commit()
    if active:
        flash(_("User %(name)s reactivated.", name=user.name), "success")
    else:
        flash(_("User %(name)s deactivated: their sessions have ended.", name=user.name), "success")
    return redirect(url_for("tenant.users")), 303


@bp.post("/users/<int:account_id>/deactivate")
def user_deactivate(account_id: int):
    return _set_active(account_id, False)


@bp.post("/users/<int:account_id>/reactivate")
def user_reactivate(account_id: int):
    return _set_active(account_id, True)
