"""Forms of the workspace and the invitation page. The field names are the ones the
templates post; CSRF is checked (the app's CSRFProtect and these forms share the token).

The forms parse and strip; the rule modules validate what is a rule (a contact's
phone, what a user may grant), so the same checks hold for every caller.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, IntegerField, StringField
from wtforms.validators import DataRequired, Length


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Form(FlaskForm):
    class Meta:
        # The app-wide CSRFProtect has checked the token (form field or the X-CSRFToken
        # header htmx sends) before any view runs; checking it again here would refuse
        # the header.
        csrf = False

    def submitted(self) -> MultiDict:
        """The values as they were typed (empty on a GET), for the page to show them again."""
        return MultiDict(
            [(f.name, raw) for f in self if f.name != "csrf_token" and f.raw_data for raw in f.raw_data]
        )


class ValuesField(Field):
    """Every value posted under the field's name (checkboxes, multiple selects), unparsed."""

    def process_formdata(self, valuelist):
        self.data = list(valuelist)

    def _value(self):
        return ""


class MessageForm(_Form):
    body = StringField(
        filters=[_strip],
        validators=[
            DataRequired(_l("Write a message of up to 4,000 characters.")),
            Length(max=4000, message=_l("Write a message of up to 4,000 characters.")),
        ],
    )
    template = StringField()

    @property
    def is_template(self) -> bool:
        return self.template.data == "1"


class StartConversationForm(_Form):
    body = StringField(filters=[_strip])


class AssignForm(_Form):
    # "" keeps the current choice; parsed by the view (a value that is no id is a 404).
    account_id = StringField()
    team_id = StringField()


class ContactForm(_Form):
    name = StringField()
    phone = StringField()
    email = StringField()


class TeamForm(_Form):
    name = StringField(
        filters=[_strip],
        validators=[
            DataRequired(_l("Type a team name of up to 80 characters.")),
            Length(max=80, message=_l("Type a team name of up to 80 characters.")),
        ],
    )


class TeamMembersForm(_Form):
    account_id = ValuesField()


class ClientUserForm(_Form):
    name = StringField(default="")
    email = StringField(default="")
    chat_level = IntegerField()
    view_phones = StringField()
    permissions = ValuesField(default=())

    @property
    def granted_permissions(self) -> list[str]:
        return [name for name in self.permissions.data or [] if name]

    @property
    def phones_granted(self) -> bool:
        return self.view_phones.data == "y"


class InvitationAnswerForm(_Form):
    decision = StringField()
