"""The panel's form of an API client: a name and its scopes."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from api.credentials import MAX_NAME
from api.states import ApiScope

SCOPE_LABELS = {
    ApiScope.CLIENTS_READ: _l("Read clients"),
    ApiScope.CLIENTS_WRITE: _l("Create and change clients"),
    ApiScope.USERS_READ: _l("Read client users"),
    ApiScope.USERS_WRITE: _l("Create and change client users"),
    ApiScope.BILLING_READ: _l("Read plans, subscriptions and payments"),
    ApiScope.BILLING_WRITE: _l("Change subscriptions and record payments"),
    ApiScope.TICKETS_READ: _l("Read tickets"),
    ApiScope.TICKETS_WRITE: _l("Create and answer tickets"),
    ApiScope.AUDIT_READ: _l("Read the audit log"),
    ApiScope.IMPERSONATE: _l("Create “Log in as” links"),
}


class ApiClientForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope.value, label) for scope, label in SCOPE_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
