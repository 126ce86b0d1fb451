"""Forms of the WhatsApp pages: they parse and strip; the rules decide
(:mod:`whatsapp.channels`, :mod:`whatsapp.message_templates`)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Form(FlaskForm):
    class Meta:
        csrf = False  # the app-wide CSRFProtect has checked the token already


class ChannelForm(_Form):
    phone_number_id = StringField(filters=[_strip])
    business_account_id = StringField(filters=[_strip])
    verify_token = StringField(filters=[_strip])
    access_token = StringField(filters=[_strip])
    app_secret = StringField(filters=[_strip])


class TemplateSendForm(_Form):
    template_id = StringField(filters=[_strip])

    def params(self, keys: list[str], form) -> list[str]:
        """``param_<key>`` for each key (``param_1``, ``param_2``... or a named
        template's ``param_first_name``...) as typed, stripped."""
        return [(form.get(f"param_{key}") or "").strip() for key in keys]

    def buttons(self, indexes, form) -> dict[int, str]:
        """``button_<index>`` as typed, stripped: a URL button's suffix, a quick reply's
        payload."""
        return {index: (form.get(f"button_{index}") or "").strip() for index in indexes}

    def header_param(self, form) -> str:
        return (form.get("header_param") or "").strip()
