"""The client's workspace (``/app/``)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template

from auth.services import current_account
from core.tenancy import get_or_404
from tenant.models import Client

bp = Blueprint("tenant", __name__, url_prefix="/app", template_folder="templates")


@bp.before_request
def _client_users_only():
    if current_account and current_account.is_staff:
        return redirect("/reseller/clients")
    return None


@bp.get("/")
def home():
    client = get_or_404(Client, current_account.client_id)
    if client.inactivated_at is not None:
        abort(404)
    return render_template("tenant/home.html", client=client)
