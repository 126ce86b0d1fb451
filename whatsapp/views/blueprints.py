"""The whatsapp package's blueprints, defined here only: ``whatsapp`` holds the client's
pages inside the workspace (``/app/...``, behind the workspace guard), and
``whatsapp_webhook`` Meta's webhook (``/webhooks/whatsapp``: no reseller, no session)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from tenant.hooks import WorkspaceLink
from tenant.workspace import workspace_guard

TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

bp = Blueprint("whatsapp", __name__, url_prefix="/app", template_folder=TEMPLATES)
webhook_bp = Blueprint("whatsapp_webhook", __name__)

bp.before_request(workspace_guard)

# Linked from the inbound channel's card on the teams page (tenant never names whatsapp).
SETTINGS_LINK = WorkspaceLink("whatsapp.settings_page", "WhatsApp", "whatsapp", "", "whatsapp.")
