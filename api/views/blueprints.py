"""The api package's blueprints, defined here only.

``api_panel`` holds the staff pages of the API clients (``/reseller/api``: staff with
*API*, drawn in the panel's layout and listed in its menu through ``reseller.hooks``).
``api_oauth`` holds the OAuth2 endpoints (``/oauth/token``, ``/oauth/revoke``,
``/oauth/introspect`` and the server's metadata), authenticated by the API client's
credentials. ``api_v1`` (flask-smorest's Blueprint, so its operations are documented
from the code) holds the resources under ``/api/v1``, authenticated by a Bearer token;
``api_docs`` the reference page. None of them is reached with a cookie
(``api.conventions.CookielessPaths``) or a CSRF token.
"""

from __future__ import annotations

import http
from functools import wraps
from pathlib import Path

from flask import Blueprint, abort
from flask_smorest import Api
from flask_smorest import Blueprint as DocumentedBlueprint
from flask_smorest.utils import prepare_response

from api.idempotency import HEADER
from api.problems import PROBLEM_TYPE
from api.schemas import ProblemSchema
from api.states import ApiScope
from auth.access import current_account
from core.tenancy import get_or_404
from tenant.models import Client

TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

panel_bp = Blueprint("api_panel", __name__, url_prefix="/reseller/api", template_folder=TEMPLATES)
oauth_bp = Blueprint("api_oauth", __name__)
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1", template_folder=TEMPLATES)
v1 = DocumentedBlueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Clients of the reseller, their users, their billing and their tickets.",
)
IDEMPOTENCY = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Replays the stored answer for 24 hours; the same key with another body is a 422.",
}


def problems(*statuses):
    """Document the problems an operation may answer."""

    def decorator(view):
        for status in statuses:
            view = v1.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_TYPE)(view)
        return view

    return decorator


def security(scope: ApiScope):
    """Document the scope an operation needs."""
    return v1.doc(security=[{"oauth2": [scope.value]}])


@panel_bp.before_request
def _staff_only():
    if current_account and not current_account.is_staff:
        abort(403)


SCOPES = {scope.value: scope.name.replace("_", " ").lower() for scope in ApiScope}


# The document's sections: every operation names one (``tags=`` on its route).
TAGS = (
    {"name": "Clients", "description": "The reseller's clients: list, read, create, change, their life."},
    {"name": "Client users", "description": "A client's users, and single-use “Log in as” links."},
    {"name": "Billing", "description": "Plans, a client's subscription, payments and usage."},
    {"name": "Desks and tickets", "description": "Desks, and tickets: list, read, open, reply, change."},
    {"name": "Audit log", "description": "Who did what, filtered like the panel's audit page."},
)


class OpenApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: the HTML pages keep
    theirs, and the API's errors are problems (``api.problems``), documented as such.
    Its sections are :data:`TAGS`, not one per blueprint."""

    ERROR_SCHEMA = ProblemSchema

    def register_blueprint(self, blp, **options):
        super().register_blueprint(blp, **options)
        # flask-smorest adds the blueprint's own name as a section: the operations name theirs.
        self.spec._tags = [tag for tag in self.spec._tags if tag["name"] != blp.name]  # noqa: SLF001
        known = {tag["name"] for tag in self.spec._tags}  # noqa: SLF001
        for tag in TAGS:
            if tag["name"] not in known:
                self.spec.tag(tag)

    def _register_error_handlers(self):
        return None

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, PROBLEM_TYPE if status >= 400 else "application/json")
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def spec_kwargs(token_url: str) -> dict:
    """The document's security scheme: OAuth2 client credentials at ``token_url``."""
    flow = {"tokenUrl": token_url, "scopes": SCOPES}
    scheme = {"type": "oauth2", "flows": {"clientCredentials": flow}}
    return {"components": {"securitySchemes": {"oauth2": scheme}}}


def with_client(*, for_update: bool = False):
    """Load the path's client of this reseller (else a 404) before the body is read, so
    another reseller's id is a 404 whatever the body; the view gets ``client``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, client_id: int, **kwargs):
            client = get_or_404(Client, client_id, for_update=for_update)
            return view(*args, client=client, **kwargs)

        return wrapped

    return decorator
