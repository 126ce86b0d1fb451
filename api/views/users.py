"""``/api/v1/clients/{id}/users``: a client's users, listed with a cursor, read one by
one (with an ETag), created, changed, deactivated and reactivated by the rules of
``tenant.users`` (``api.client_users``)."""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify, url_for
from flask.views import MethodView
from flask_babel import gettext as _

from api import client_users, login_links
from api.conventions import conditional
from api.idempotency import idempotent, keep_for
from api.problems import Problem
from api.protection import require_scope
from api.schemas import (
    ClientUserCreateSchema,
    ClientUserListSchema,
    ClientUserSchema,
    ClientUserUpdateSchema,
    LoginLinkBodySchema,
    LoginLinkSchema,
    PageArgs,
)
from api.states import ApiScope
from api.views.blueprints import IDEMPOTENCY, problems, security, v1, with_client
from core.extensions import db
from tenant import users as user_rules
from tenant.models import Client

READ, WRITE = ApiScope.USERS_READ, ApiScope.USERS_WRITE


def with_user(view):
    """The path's user of the path's client (loaded by ``with_client``), else a 404."""

    @wraps(view)
    def wrapped(*args, client: Client, account_id: int, **kwargs):
        account = user_rules.client_user_or_none(client, account_id)
        if account is None:
            raise Problem(404, "not_found", _("No user of this client has this id."))
        return view(*args, account=account, **kwargs)

    return wrapped


def _answer(account, status: int = 200):
    response = jsonify(client_users.user_json(account))
    response.status_code = status
    return response


@v1.route("/clients/<int:client_id>/users", tags=["Client users"])
class ClientUsers(MethodView):
    @security(READ)
    @problems(401, 403, 404, 422, 429)
    @require_scope(READ)
    @with_client()
    @v1.arguments(PageArgs, location="query", as_kwargs=True)
    @v1.response(200, ClientUserListSchema)
    def get(self, client: Client, limit=client_users.DEFAULT_LIMIT, starting_after=None):
        """The client's users in id order, a page at a time."""
        rows, has_more = client_users.list_page(client, limit, starting_after)
        return jsonify({"data": [client_users.user_json(a) for a in rows], "has_more": has_more})

    @security(WRITE)
    @problems(400, 401, 403, 404, 409, 422, 429)
    @v1.doc(parameters=[IDEMPOTENCY])
    @require_scope(WRITE)
    @idempotent
    @with_client(for_update=True)
    @v1.arguments(ClientUserCreateSchema)
    @v1.response(201, ClientUserSchema)
    def post(self, values, client: Client):
        """A new user of the client: invited by e-mail to choose a password (an e-mail
        with a login in this reseller joins it); the seed's default permissions unless given."""
        account, _outcome = client_users.create(client, values)
        response = _answer(account, 201)
        response.headers["Location"] = url_for(
            "api_v1.ClientUserItem", client_id=client.id, account_id=account.id
        )
        return response


@v1.route("/clients/<int:client_id>/users/<int:account_id>", tags=["Client users"])
class ClientUserItem(MethodView):
    @security(READ)
    @problems(401, 403, 404, 429)
    @v1.response(200, ClientUserSchema)
    @v1.alt_response(304, description="Not modified (If-None-Match)")
    @require_scope(READ)
    @with_client()
    @with_user
    def get(self, account):
        """One user; its ETag answers ``If-None-Match`` with a 304."""
        return conditional(_answer(account))

    @security(WRITE)
    @problems(401, 403, 404, 422, 429)
    @require_scope(WRITE)
    @with_client(for_update=True)
    @with_user
    @v1.arguments(ClientUserUpdateSchema)
    @v1.response(200, ClientUserSchema)
    def patch(self, values, account):
        """Change the name, chat level, phone view or permissions given; the others stay."""
        client_users.update(account, values)
        db.session.commit()
        return _answer(account)


def _status_change(name: str, change, doc: str):
    @security(WRITE)
    @problems(400, 401, 403, 404, 429)
    @v1.doc(parameters=[IDEMPOTENCY])
    @require_scope(WRITE)
    @idempotent
    @with_client(for_update=True)
    @with_user
    @v1.response(200, ClientUserSchema)
    def view(account):
        change(account)
        return _answer(account)

    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    return view


v1.route(
    "/clients/<int:client_id>/users/<int:account_id>/deactivate", methods=["POST"], tags=["Client users"]
)(
    _status_change(
        "client_user_deactivate",
        client_users.deactivate,
        "Deactivate the user and end its sessions at once (only the reseller reactivates it).",
    )
)
v1.route(
    "/clients/<int:client_id>/users/<int:account_id>/reactivate", methods=["POST"], tags=["Client users"]
)(_status_change("client_user_reactivate", client_users.reactivate, "Let a deactivated user log in again."))


@v1.route(
    "/clients/<int:client_id>/users/<int:account_id>/login-link", methods=["POST"], tags=["Client users"]
)
@security(ApiScope.IMPERSONATE)
@problems(400, 401, 403, 404, 409, 422, 429)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(ApiScope.IMPERSONATE)
@idempotent
@with_client()
@with_user
@v1.arguments(LoginLinkBodySchema)
@v1.response(201, LoginLinkSchema)
def client_user_login_link(values, account):
    """A single-use link (60 s, on the reseller's address) that opens the panel's *Log in
    as* this user for the staff member named, in a browser logged in as them, after
    their confirmation; the panel's rules apply (their *log in as* permission...)."""
    staff = login_links.find_staff(account.reseller_id, values.get("staff_id"), values.get("staff_email"))
    response = jsonify(login_links.issue(account, staff, g.api_client_id))
    keep_for(login_links.LIFETIME)  # a replay after the link died would hand out a dead link
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
