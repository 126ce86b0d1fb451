"""The tenant package's blueprints, defined here only: the workspace (``/app/``, behind
the workspace guard), the inbound channel and the public invitation page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, g

from core.tenancy import current_client
from tenant import hooks
from tenant.inbox import can_manage_inbox, quoted_message
from tenant.phones import shown_phone
from tenant.workspace import workspace_guard

TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

bp = Blueprint("tenant", __name__, url_prefix="/app", template_folder=TEMPLATES)
inbound_bp = Blueprint("inbound", __name__)
invitations_bp = Blueprint("invitations", __name__, template_folder=TEMPLATES)

bp.before_request(workspace_guard)


@bp.app_context_processor
def _workspace_context():
    return {
        "shown_phone": shown_phone,
        "workspace_client": current_client._get_current_object(),
        "subscription_only": g.get("subscription_only", False),
        "workspace_links": hooks.workspace_links,
        "conversation_parts": hooks.conversation_parts,
        "channel_pages": hooks.channel_pages,
        "can_manage_inbox": can_manage_inbox,
        "quoted_message": quoted_message,
    }
