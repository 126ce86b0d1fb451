"""Forms of the reseller panel. Tenant and permission fields are never bound from input."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from auth import permissions as perm
from core.validation import WholeNumberField
from tenant.documents import UF

SLA_CHOICES = [
    SelectChoice("basic", _l("Basic")),
    SelectChoice("standard", _l("Standard")),
    SelectChoice("premium", _l("Premium")),
]
DOC_CHOICES = [SelectChoice("cnpj", "CNPJ"), SelectChoice("cpf", "CPF")]


class ClientForm(FlaskForm):
    # General
    photo = FileField(_l("Photo"))
    sla_level = SelectField(_l("SLA level"), choices=SLA_CHOICES, default="standard")
    trade_name = StringField(_l("Trade name"), validators=[DataRequired(), Length(max=120)])
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=160)])
    # Contact
    email = EmailField(_l("Main e-mail"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    # Documents
    document_type = SelectField(_l("Document type"), choices=DOC_CHOICES, default="cnpj")
    document = StringField(_l("CNPJ / CPF"), validators=[DataRequired(), Length(max=20)])
    # Address
    postal_code = StringField(_l("CEP"), validators=[Optional(), Length(max=9)])
    street = StringField(_l("Street"), validators=[Optional(), Length(max=160)])
    street_number = StringField(_l("Number"), validators=[Optional(), Length(max=20)])
    complement = StringField(_l("Complement"), validators=[Optional(), Length(max=80)])
    district = StringField(_l("District"), validators=[Optional(), Length(max=80)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    state = SelectField(
        _l("State"),
        choices=[SelectChoice("", "—")] + [SelectChoice(uf) for uf in UF],
        default="",
        validate_choice=False,
    )
    # Settings: responsible user
    responsible_account_id = SelectField(
        _l("Responsible user"), coerce=str, choices=[], validate_choice=False
    )
    responsible_email = EmailField(_l("Responsible user's e-mail"), validators=[Optional(), Length(max=254)])
    responsible_name = StringField(_l("Responsible user's name"), validators=[Optional(), Length(max=120)])

    OPTIONAL = {
        "photo",
        "phone",
        "postal_code",
        "street",
        "street_number",
        "complement",
        "district",
        "city",
        "state",
        "responsible_account_id",
        "responsible_email",
        "responsible_name",
    }


class CustomFieldForm(FlaskForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=80)])
    field_type = SelectField(
        _l("Type"),
        choices=[
            SelectChoice("text", _l("Text")),
            SelectChoice("number", _l("Number")),
            SelectChoice("date", _l("Date")),
            SelectChoice("select", _l("List of options")),
        ],
    )
    required = BooleanField(_l("Required"))
    options = StringField(_l("Options (separated by commas)"), validators=[Optional(), Length(max=500)])
    position = WholeNumberField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)]
    )


CHAT_LEVEL_CHOICES = [SelectChoice(str(level), label) for level, label in perm.CHAT_LEVELS.items()]
ACCESS_CHOICES = [
    SelectChoice("invite", _l("Send an invitation link by e-mail")),
    SelectChoice("password", _l("Set an initial password now")),
]


class ClientUserForm(FlaskForm):
    """Edit a client user: only what staff may change. The e-mail belongs to the login
    (shared with other clients) and is not editable here."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    chat_level = SelectField(
        _l("Chat level"), choices=CHAT_LEVEL_CHOICES, default=str(perm.DEFAULT_CHAT_LEVEL)
    )
    view_phones = BooleanField(_l("May view phone numbers"), default=True)
    workspace_permissions = SelectMultipleField(
        _l("Workspace permissions"),
        choices=[SelectChoice(key, label) for key, label in perm.CLIENT_USER_PERMISSIONS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )


class NewClientUserForm(ClientUserForm):
    """Add a client user; access applies only to an e-mail without a login here."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    access = RadioField(_l("Access"), choices=ACCESS_CHOICES, default="invite")
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=512)])


class DeletionCodeForm(FlaskForm):
    """Step 2 of deleting a client: the one-time code (e-mailed, or from the authenticator)."""

    code = StringField(validators=[DataRequired(), Length(max=12)])


# --- staff and roles (/reseller/staff, /reseller/roles) ---------------------------------
# The role is chosen by id among the reseller's roles and checked by auth.staff; the
# permissions among the staff permissions and checked by auth.roles (nobody grants what
# they do not hold). Neither is ever bound onto a row by the form itself.


class StaffForm(FlaskForm):
    """Edit a staff member: name and role (the e-mail belongs to the login)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role_id = SelectField(_l("Role"), coerce=str, choices=[], validate_choice=False)


class StaffInviteForm(StaffForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class RoleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    permissions = SelectMultipleField(
        _l("Permissions"),
        choices=[SelectChoice(key, label) for key, label in perm.STAFF_PERMISSIONS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )


# --- the reseller's settings (issue 12) ----------------------------------------------------


class BrandForm(FlaskForm):
    """Brand and contacts; reseller.branding checks and saves them."""

    name = StringField(_l("Name shown to clients"), validators=[DataRequired(), Length(max=120)])
    primary_color = StringField(_l("Primary colour"), validators=[DataRequired(), Length(max=7)])
    logo = FileField(_l("Logo (PNG, JPEG or SVG, up to 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    favicon = FileField(_l("Favicon (PNG, JPEG or SVG, up to 1 MB)"))
    remove_favicon = BooleanField(_l("Remove the favicon"))
    support_email = EmailField(_l("Support e-mail"), validators=[Optional(), Length(max=254)])
    support_phone = StringField(_l("Support phone"), validators=[Optional(), Length(max=30)])
    support_whatsapp = StringField(_l("WhatsApp"), validators=[Optional(), Length(max=30)])
    mail_sender_name = StringField(_l("E-mail sender name"), validators=[Optional(), Length(max=120)])
    payment_instructions = TextAreaField(
        _l("How to pay without online payment"), validators=[Optional(), Length(max=2000)]
    )
    # Seed 003: an e-mail from an unknown sender creates its client (on by default).
    mail_creates_clients = BooleanField(_l("Create clients from unknown senders"))


CODE_CHOICES = [
    SelectChoice("first_login", _l("Only on an e-mail's first login (recommended)")),
    SelectChoice("new_browser", _l("On every new browser")),
]


class SecurityForm(FlaskForm):
    require_staff_2fa = BooleanField(_l("Staff must use two-step verification (authenticator app)"))
    ask_code = RadioField(_l("Ask the e-mailed code"), choices=CODE_CHOICES, default="first_login")
    staff_idle_minutes = WholeNumberField(_l("Staff: end an idle session after (minutes)"))
    staff_session_hours = WholeNumberField(_l("Staff: end any session after (hours)"))
    user_idle_days = WholeNumberField(_l("Client users: end an idle session after (days)"))
    user_session_days = WholeNumberField(_l("Client users: end any session after (days)"))
    grace_days = WholeNumberField(_l("Days a payment may be overdue before the client is suspended"))
    purge_delay_hours = WholeNumberField(
        _l("Hours a deleted client stays recoverable before it is purged"), validators=[Optional()]
    )
    audit_retention_months = WholeNumberField(_l("Months the audit log is kept"))


class HostForm(FlaskForm):
    host = StringField(_l("New host"), validators=[DataRequired(), Length(max=253)])


class CanonicalUrlForm(FlaskForm):
    canonical_url = StringField(_l("Address of e-mailed links"), validators=[DataRequired(), Length(max=300)])


class HostRemoveForm(FlaskForm):
    confirm = BooleanField(_l("Yes, remove the host I am using"))


# --- client domains (/reseller/domains and a client's Domínios tab) -----------------------
# The client a domain goes to is named by id and loaded through the reseller's scope
# (another reseller's id is a 404); tenant.domains decides what is allowed.


class DomainForm(FlaskForm):
    domain = StringField(_l("Domain"), validators=[DataRequired(), Length(max=300)])
    target_client = StringField(
        _l("Client (ID or name from the list)"), validators=[Optional(), Length(max=20)]
    )


class DomainMoveForm(FlaskForm):
    target_client = StringField(_l("Move to client (ID)"), validators=[DataRequired(), Length(max=20)])


class WebmailOverrideForm(FlaskForm):
    domain = StringField(_l("Domain"), validators=[DataRequired(), Length(max=300)])
    is_webmail = RadioField(
        _l("This domain is"),
        choices=[
            SelectChoice("yes", _l("Public webmail: never a client's domain")),
            SelectChoice("no", _l("Not webmail: may be a client's domain")),
        ],
        default="yes",
    )


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (remove, mark reviewed)."""


class LinkLoginsForm(FlaskForm):
    login_ids = SelectMultipleField(coerce=int, choices=[], validate_choice=False)
