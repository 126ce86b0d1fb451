"""Helpers of the API's tests: an API client made by the panel's rules, a token from
``/oauth/token``, JSON calls with a Bearer token."""

from __future__ import annotations

import base64

from api import credentials
from api.models import ApiClient
from api.states import ApiScope
from core.extensions import db

ALL_SCOPES = [s.value for s in ApiScope]


def api_client(app, reseller_id: int, scopes=None, name: str = "ERP"):
    """(client_id, secret, row id) of a new API client of ``reseller_id``."""
    with app.app_context():
        row, secret = credentials.create_client(reseller_id, name, scopes or ALL_SCOPES)
        db.session.commit()
        return row.client_key, secret, row.id


def api_objects(app, reseller_id: int) -> dict:
    """An API client of the reseller and its secret, for the route sweeps."""
    _client_id, _secret, row_id = api_client(app, reseller_id, name="Integração")
    with app.app_context():
        secret_id = db.session.get(ApiClient, row_id).secrets[0].id
    return {"api_client_id": row_id, "secret_id": secret_id}


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def token_response(app, client_id: str, secret: str, host: str = "a.test", scope: str | None = None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return app.test_client().post(f"https://{host}/oauth/token", data=data, headers=basic(client_id, secret))


def token(app, client_id: str, secret: str, host: str = "a.test", scope: str | None = None) -> str:
    response = token_response(app, client_id, secret, host, scope)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def bearer(access_token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {access_token}", **extra}


class Caller:
    """JSON calls to the API on one host with one token."""

    def __init__(self, app, access_token: str, host: str = "a.test"):
        self.http = app.test_client()
        self.host = host
        self.access_token = access_token

    def call(self, method: str, path: str, json=None, headers=None, **kw):
        return self.http.open(
            f"http://{self.host}{path}",
            method=method,
            json=json,
            headers=bearer(self.access_token, **(headers or {})),
            **kw,
        )

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def patch(self, path: str, json=None, **kw):
        return self.call("PATCH", path, json=json, **kw)
