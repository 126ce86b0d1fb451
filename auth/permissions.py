"""Permission names. Staff permissions make up reseller roles; the owner has all."""

from flask_babel import lazy_gettext as _l

CLIENTS = "clients"
CLIENT_INVOICES = "client_invoices"
PLANS = "plans"
LOG_IN_AS = "log_in_as"
HANDLE_CLIENTS_WITHOUT_PLAN = "handle_clients_without_plan"
CLIENT_USERS = "client_users"
EXTRA_CONVERSATIONS = "extra_conversations"
FINANCE_EMAILS = "finance_emails"
DESKS = "desks"
DELETE_CLIENTS = "delete_clients"
API = "api"
AUDIT_LOG = "audit_log"
STAFF_SETTINGS = "staff_settings"

# The built-in role that holds every staff permission (Role.is_owner), as shown.
OWNER_ROLE_LABEL = _l("Owner")

STAFF_PERMISSIONS = {
    CLIENTS: _l("Clients"),
    CLIENT_INVOICES: _l("Client invoices"),
    PLANS: _l("Plans"),
    LOG_IN_AS: _l("Log in as"),
    HANDLE_CLIENTS_WITHOUT_PLAN: _l("Handle clients without a plan"),
    CLIENT_USERS: _l("Client users"),
    EXTRA_CONVERSATIONS: _l("Extra conversations"),
    FINANCE_EMAILS: _l("Finance e-mails"),
    DESKS: _l("Service desks"),
    DELETE_CLIENTS: _l("Delete clients"),
    API: _l("API"),
    AUDIT_LOG: _l("Audit log"),
    STAFF_SETTINGS: _l("Staff and settings"),
}

# Workspace (client user) permissions beyond the chat level and phone visibility.
MANAGE_USERS = "manage_users"
PORTAL = "portal"
REPORTS = "reports"
BILLING = "billing"
# The portal's tickets: every ticket of the client, not only the user's own (seed 004:
# supervisors and the responsible user).
ALL_TICKETS = "all_tickets"

CLIENT_USER_PERMISSIONS = {
    MANAGE_USERS: _l("Manage users"),
    PORTAL: _l("Client portal"),
    REPORTS: _l("Reports"),
    ALL_TICKETS: _l("See all the client's tickets"),
    BILLING: _l("Pay invoices and buy extra conversations"),
}
# What a new client user holds unless told otherwise (issue 15: the portal on, reports off).
DEFAULT_CLIENT_USER_PERMISSIONS = (PORTAL,)
# What the client's responsible user is given besides (the portal, its reports, every ticket).
RESPONSIBLE_PERMISSIONS = (PORTAL, REPORTS, ALL_TICKETS)

CHAT_LEVELS = {
    1: _l("1 - own conversations"),
    2: _l("2 - take unassigned conversations from the queue"),
    3: _l("3 - see their teams' conversations"),
    4: _l("4 - transfer and assign"),
    5: _l("5 - see all the client's conversations"),
    6: _l("6 - close or reopen any, manage the inbox"),
}
DEFAULT_CHAT_LEVEL = 6
