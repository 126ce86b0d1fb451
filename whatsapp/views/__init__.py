"""The whatsapp package's pages, one module per page group, each imported here."""

from whatsapp.views import conversation, settings, webhook
from whatsapp.views.blueprints import SETTINGS_LINK, bp, webhook_bp

__all__ = ["SETTINGS_LINK", "bp", "conversation", "settings", "webhook", "webhook_bp"]
