"""``/api/v1/clients``: the reseller's clients, listed with the panel's filters and a
cursor, read one by one (with an ETag), created and changed by the panel's rules."""

from __future__ import annotations

from flask import g, jsonify, url_for
from flask.views import MethodView

from api import client_pages, lifecycle
from api.conventions import conditional
from api.idempotency import idempotent
from api.protection import require_scope
from api.schemas import (
    ClientCreateSchema,
    ClientListArgs,
    ClientListSchema,
    ClientSchema,
    ClientUpdateSchema,
    DeletionWarningSchema,
)
from api.states import ApiScope
from api.views.blueprints import IDEMPOTENCY, problems, security, v1
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from tenant.models import Client


@v1.route("/clients", tags=["Clients"])
class Clients(MethodView):
    @security(ApiScope.CLIENTS_READ)
    @problems(401, 403, 422, 429)
    @require_scope(ApiScope.CLIENTS_READ)
    @v1.arguments(ClientListArgs, location="query", as_kwargs=True)
    @v1.response(200, ClientListSchema)
    def get(self, limit=client_pages.DEFAULT_LIMIT, starting_after=None, **filter_args):
        """The clients, filtered and sorted like the panel's list, a page at a time."""
        reseller = require_reseller()
        filters = client_pages.read_filters(reseller.id, filter_args)
        rows, has_more = client_pages.list_page(reseller.id, filters, limit, starting_after)
        return jsonify({"data": [client_pages.client_json(c) for c in rows], "has_more": has_more})

    @security(ApiScope.CLIENTS_WRITE)
    @problems(400, 401, 403, 409, 422, 429)
    @v1.doc(parameters=[IDEMPOTENCY])
    @require_scope(ApiScope.CLIENTS_WRITE)
    @idempotent
    @v1.arguments(ClientCreateSchema)
    @v1.response(201, ClientSchema)
    def post(self, values):
        """A new client and its responsible user (the panel's rules and checks)."""
        client = client_pages.create(require_reseller().id, values)
        response = jsonify(client_pages.client_json(client))
        response.status_code = 201
        response.headers["Location"] = url_for("api_v1.ClientItem", client_id=client.id)
        return response


@v1.route("/clients/<int:client_id>", tags=["Clients"])
class ClientItem(MethodView):
    @security(ApiScope.CLIENTS_READ)
    @problems(401, 403, 404, 429)
    @v1.response(200, ClientSchema)
    @v1.alt_response(304, description="Not modified (If-None-Match)")
    @require_scope(ApiScope.CLIENTS_READ)
    def get(self, client_id: int):
        """One client; its ETag answers ``If-None-Match`` with a 304."""
        client = get_or_404(Client, client_id)
        return conditional(jsonify(client_pages.client_json(client)))

    @security(ApiScope.CLIENTS_WRITE)
    @problems(401, 403, 404, 422, 429)
    @require_scope(ApiScope.CLIENTS_WRITE)
    @v1.arguments(ClientUpdateSchema)
    @v1.response(200, ClientSchema)
    def patch(self, values, client_id: int):
        """Change the fields given; the others stay (the panel's rules and checks)."""
        client = get_or_404(Client, client_id, for_update=True)
        client = client_pages.update(client, values)
        db.session.commit()
        return jsonify(client_pages.client_json(client))

    @security(ApiScope.CLIENTS_WRITE)
    @problems(401, 403, 404, 429)
    @require_scope(ApiScope.CLIENTS_WRITE)
    @v1.response(202, DeletionWarningSchema)
    def delete(self, client_id: int):
        """The first of two steps: what the deletion removes (the panel's warning) and a
        confirmation token (10 minutes, single use, for this client and this API client)
        for ``POST /clients/{id}/deletion/confirm``. Nothing is changed yet."""
        client = get_or_404(Client, client_id)
        response = jsonify(lifecycle.deletion_warning(client, g.api_client_id))
        response.status_code = 202
        return response
