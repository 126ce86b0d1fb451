"""A client's users in the reseller panel (``/reseller/clients/<id>/users``): list, add,
edit, deactivate and reactivate. Thin views over ``tenant.users``.

A user is an *account* of a *login* inside the client. An e-mail that already has a
login in this reseller joins it and keeps its password; otherwise staff send an
invitation link or set an initial password.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from auth import permissions as perm
from auth.access import current_account, require_permission
from auth.models import Account
from core.extensions import db
from core.mail import undeliverable
from core.tenancy import get_or_404
from core.validation import clean_email
from reseller.forms import ClientUserForm, NewClientUserForm
from reseller.views.blueprint import bp
from tenant import users as services
from tenant.models import Client


def _client_and_user(client_id: int, account_id: int) -> tuple[Client, Account]:
    client = get_or_404(Client, client_id)
    user = services.client_user_or_none(client, account_id)
    if user is None:
        abort(404)
    return client, user


def _show_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors or []), message]


def _added_message(outcome: str, account: Account) -> str:
    if outcome == "joined":
        return _(
            "User %(name)s added: %(email)s already had a login here and keeps its password.",
            name=account.name,
            email=account.email,
        )
    if outcome == "joined_invited":
        return _(
            "User %(name)s added to the existing login of %(email)s, which has no password yet: "
            "an invitation was sent.",
            name=account.name,
            email=account.email,
        )
    if outcome == "password":
        return _("User %(name)s added with the initial password.", name=account.name)
    return _(
        "User %(name)s added: an invitation was sent to %(email)s.", name=account.name, email=account.email
    )


def _form_page(client: Client, form, user: Account | None, standing=None):
    page = render_template(
        "reseller/user_form.html",
        client=client,
        form=form,
        user=user,
        standing=standing,
        chat_levels=perm.CHAT_LEVELS,
    )
    return page, (422 if request.method == "POST" else 200)


def _to_list(client: Client):
    return redirect(url_for("reseller.client_users", client_id=client.id))


@bp.get("/clients/<int:client_id>/users")
@require_permission(perm.CLIENT_USERS)
def client_users(client_id: int):
    client = get_or_404(Client, client_id)
    users = services.client_users_of(client)
    return render_template(
        "reseller/users.html",
        client=client,
        users=users,
        chat_levels=perm.CHAT_LEVELS,
        # Addresses a bounce declared dead: no mail goes to them (core.mail), staff see why.
        dead=undeliverable(client.reseller_id, [u.email for u in users]),
    )


@bp.get("/clients/<int:client_id>/users/email-check")
@require_permission(perm.CLIENT_USERS)
def client_user_email_check(client_id: int):
    """htmx: tell staff, while they type, whether the e-mail joins an existing login."""
    client = get_or_404(Client, client_id)
    address = clean_email(request.args.get("email", "")[:254])
    standing = services.email_standing(client, address) if address else None
    return render_template("reseller/_user_email_check.html", standing=standing)


@bp.route("/clients/<int:client_id>/users/new", methods=["GET", "POST"])
@require_permission(perm.CLIENT_USERS)
def client_user_new(client_id: int):
    client = get_or_404(Client, client_id)
    form = NewClientUserForm()
    if request.method == "GET":
        form.workspace_permissions.data = list(perm.DEFAULT_CLIENT_USER_PERMISSIONS)
    if form.validate_on_submit():
        try:
            account, outcome = services.add_user_to_client(
                client,
                actor=current_account._get_current_object(),
                name=form.name.data,
                email=form.email.data,
                chat_level=int(form.chat_level.data),
                view_phones=bool(form.view_phones.data),
                permissions=list(form.workspace_permissions.data or []),
                initial_password=(form.password.data or "") if form.access.data == "password" else None,
            )
            db.session.commit()
        except services.ClientUserRejected as exc:
            _show_errors(form, exc.errors)  # checked before any write: nothing to undo
        except IntegrityError:
            # The same e-mail added twice at the same moment: the unique index decides.
            db.session.rollback()
            _show_errors(form, {"email": _("This e-mail is already a user of this client.")})
        else:
            flash(_added_message(outcome, account), "success")
            return _to_list(client)
    address = clean_email(form.email.data) if request.method == "POST" else None
    standing = services.email_standing(client, address) if address else None
    # Re-shown after an error: say again that the e-mail joins a login (hides the access choice).
    return _form_page(client, form, None, standing if standing and standing.joins_login else None)


@bp.route("/clients/<int:client_id>/users/<int:account_id>/edit", methods=["GET", "POST"])
@require_permission(perm.CLIENT_USERS)
def client_user_edit(client_id: int, account_id: int):
    client, user = _client_and_user(client_id, account_id)
    form = ClientUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.workspace_permissions.data = list(user.permissions or [])
    if form.validate_on_submit():
        try:
            services.update_client_user(
                user,
                actor=current_account._get_current_object(),
                name=form.name.data,
                chat_level=int(form.chat_level.data),
                view_phones=bool(form.view_phones.data),
                permissions=list(form.workspace_permissions.data or []),
            )
        except services.ClientUserRejected as exc:
            _show_errors(form, exc.errors)  # checked before any change
        else:
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.name), "success")
            return _to_list(client)
    return _form_page(client, form, user)


@bp.post("/clients/<int:client_id>/users/<int:account_id>/deactivate")
@require_permission(perm.CLIENT_USERS)
def client_user_deactivate(client_id: int, account_id: int):
    client, user = _client_and_user(client_id, account_id)
    # Deactivated by staff: only staff can reactivate (the client's managers cannot).
    services.deactivate_client_user(user, actor=current_account._get_current_object())
    db.session.commit()
    flash(_("User %(name)s deactivated: their sessions ended now.", name=user.name), "success")
    return _to_list(client)


@bp.post("/clients/<int:client_id>/users/<int:account_id>/reactivate")
@require_permission(perm.CLIENT_USERS)
def client_user_reactivate(client_id: int, account_id: int):
    client, user = _client_and_user(client_id, account_id)
    services.reactivate_client_user(user, actor=current_account._get_current_object())
    db.session.commit()
    flash(_("User %(name)s reactivated.", name=user.name), "success")
    return _to_list(client)
