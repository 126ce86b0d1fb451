"""The client's workspace (``/app/``): a small customer-service inbox.

Every query goes through the current user's client and chat level; while staff act
as the user ("log in as") the session's account *is* the user, so the same rules
apply to them, and each write is audited with both.
"""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import CLIENT_USER, Account
from auth.services import current_account, public
from core import audit
from core.extensions import csrf, db, limiter
from core.tenancy import require_reseller
from core.validation import parse_int
from tenant import inbox
from tenant.inbox_models import CLOSED, OPEN, Contact, Conversation, Message, Team, TeamMember
from tenant.models import Client

bp = Blueprint("tenant", __name__, url_prefix="/app", template_folder="templates")
inbound_bp = Blueprint("inbound", __name__)

PAGE_SIZE = 50


def _client() -> Client:
    client = db.session.scalar(
        select(Client).where(
            Client.id == current_account.client_id,
            Client.reseller_id == require_reseller().id,
            Client.deleted_at.is_(None),
        )
    )
    if client is None or client.inactivated_at is not None:
        abort(404)
    return client


def _subscription_only(client: Client) -> bool:
    """A client without an active plan sees only its subscription page, unless staff
    acting as the user may handle clients without a plan."""
    if client.status == "active":
        return False
    actor = g.auth_session.impersonator if g.get("auth_session") is not None else None
    return not (
        actor is not None and actor.role is not None and actor.role.grants(perm.HANDLE_CLIENTS_WITHOUT_PLAN)
    )


# The subscription page (billing's blueprint) stays open to a client without a plan.
SUBSCRIPTION_ENDPOINT = "subscription.page"


def workspace_guard():
    """Before every workspace request (this blueprint and billing's subscription
    pages): client users only, their live client in ``g.client``, and a client
    without an active plan kept on its subscription page."""
    if current_account and current_account.is_staff:
        return redirect("/reseller/clients")
    if not current_account:
        return None  # the login check answers
    client = _client()
    g.client = client
    g.subscription_only = _subscription_only(client)
    if g.subscription_only and request.blueprint != "subscription":
        if request.method != "GET":
            abort(403)
        return redirect(url_for(SUBSCRIPTION_ENDPOINT))
    return None


bp.before_request(workspace_guard)


@bp.app_context_processor
def _workspace_context():
    return {
        "shown_phone": inbox.shown_phone,
        "workspace_client": g.get("client"),
        "subscription_only": g.get("subscription_only", False),
    }


def _audit(action: str, obj, **details) -> None:
    audit.record(action, obj, details=details or None)


# --- inbox --------------------------------------------------------------------------

VIEWS = ("mine", "queue", "team", "all")


@bp.get("/")
def home():
    account = current_account
    view = request.args.get("view", "mine")
    if view not in VIEWS:
        view = "mine"
    status = request.args.get("status", OPEN)
    if status not in (OPEN, CLOSED):
        status = OPEN
    stmt = inbox.visible_conversations(account).where(Conversation.status == status)
    if view == "mine":
        stmt = stmt.where(Conversation.assigned_account_id == account.id)
    elif view == "queue":
        stmt = stmt.where(Conversation.assigned_account_id.is_(None))
    elif view == "team":
        stmt = stmt.where(Conversation.team_id.in_(inbox.team_ids(account) or [-1]))
    conversations = db.session.scalars(
        stmt.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(PAGE_SIZE)
    ).all()
    return render_template(
        "tenant/inbox.html",
        client=g.client,
        conversations=conversations,
        view=view,
        status=status,
        views=[v for v in VIEWS if _view_allowed(account, v)],
    )


def _view_allowed(account, view: str) -> bool:
    return {
        "mine": True,
        "queue": account.chat_level >= inbox.TAKE_FROM_QUEUE,
        "team": account.chat_level >= inbox.SEE_TEAMS,
        "all": account.chat_level >= inbox.SEE_ALL,
    }[view]


def _conversation(conversation_id: int) -> Conversation:
    conversation = db.session.scalar(
        inbox.visible_conversations(current_account).where(Conversation.id == conversation_id)
    )
    if conversation is None:
        abort(404)
    return conversation


@bp.get("/conversations/<int:conversation_id>")
def conversation(conversation_id: int):
    conv = _conversation(conversation_id)
    messages = db.session.scalars(
        select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
    ).all()
    contact = db.session.get(Contact, conv.contact_id)
    window = inbox.open_window(contact)
    colleagues = []
    teams = []
    if inbox.can_assign(current_account):
        colleagues = _client_users()
        teams = db.session.scalars(
            select(Team).where(Team.client_id == g.client.id).order_by(Team.name)
        ).all()
    return render_template(
        "tenant/conversation.html",
        client=g.client,
        conversation=conv,
        contact=contact,
        messages=messages,
        window=window,
        colleagues=colleagues,
        teams=teams,
        can_take=inbox.can_take(current_account, conv),
        can_assign=inbox.can_assign(current_account),
        can_close=inbox.can_close(current_account, conv),
    )


def _window_message(reason: str) -> str:
    return {
        inbox.SUSPENDED: _("This account is suspended: new conversations cannot be opened."),
        inbox.NO_SESSIONS: _(
            "No sessions left: new conversations cannot be opened. Buy extra conversations."
        ),
        inbox.WINDOW_CLOSED: _(
            "The 24-hour window with this contact is closed: send a template message to reopen it "
            "(it uses one session)."
        ),
        inbox.CLIENT_GONE: _("This client is no longer active."),
    }[reason]


@bp.post("/conversations/<int:conversation_id>/messages")
def send_message(conversation_id: int):
    conv = _conversation(conversation_id)
    body = (request.form.get("body") or "").strip()
    template = request.form.get("template") == "1"
    if not body or len(body) > 4000:
        flash(_("Write a message of up to 4,000 characters."), "error")
        return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303
    if conv.assigned_account_id not in (None, current_account.id) and not inbox.can_assign(current_account):
        abort(403)
    try:
        inbox.send(conv, current_account, body, template=template, actor_id=g.get("actor_account_id"))
    except inbox.WindowRefused as refused:
        db.session.rollback()
        flash(_window_message(refused.reason), "error")
        return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303
    if conv.assigned_account_id is None:
        conv.assigned_account_id = current_account.id
    db.session.commit()
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303


@bp.post("/conversations/<int:conversation_id>/take")
def take(conversation_id: int):
    conv = _conversation(conversation_id)
    if current_account.chat_level < inbox.TAKE_FROM_QUEUE:
        abort(403)
    if not inbox.take(conv, current_account):
        flash(_("Someone else took this conversation first."), "warning")
    db.session.commit()
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303


def _client_users() -> list[Account]:
    """Who conversations can be assigned to and teams hold: active users who have
    accepted (an invited login's owner has not agreed to anything yet)."""
    return db.session.scalars(
        select(Account)
        .where(
            Account.client_id == g.client.id,
            Account.kind == CLIENT_USER,
            Account.active.is_(True),
            Account.awaiting_acceptance.is_(False),
        )
        .order_by(Account.name)
    ).all()


@bp.post("/conversations/<int:conversation_id>/assign")
def assign(conversation_id: int):
    conv = _conversation(conversation_id)
    if not inbox.can_assign(current_account):
        abort(403)
    # "" keeps the current choice; any other value that is no id is no user or team of ours.
    raw_account, raw_team = request.form.get("account_id"), request.form.get("team_id")
    account_id, team_id = parse_int(raw_account, min=1), parse_int(raw_team, min=1)
    if (raw_account and account_id is None) or (raw_team and team_id is None):
        abort(404)
    if account_id:
        if account_id not in {a.id for a in _client_users()}:
            abort(404)
        conv.assigned_account_id = account_id
    if team_id:
        team = db.session.scalar(select(Team).where(Team.id == team_id, Team.client_id == g.client.id))
        if team is None:
            abort(404)
        conv.team_id = team.id
    _audit("inbox.conversation_assigned", conv, account_id=account_id, team_id=team_id)
    db.session.commit()
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303


@bp.post("/conversations/<int:conversation_id>/close")
def close(conversation_id: int):
    conv = _conversation(conversation_id)
    if not inbox.can_close(current_account, conv):
        abort(403)
    conv.status = CLOSED
    _audit("inbox.conversation_closed", conv)
    db.session.commit()
    return redirect(url_for("tenant.home")), 303


@bp.post("/conversations/<int:conversation_id>/reopen")
def reopen(conversation_id: int):
    conv = _conversation(conversation_id)
    if not inbox.can_close(current_account, conv):
        abort(403)
    conv.status = OPEN
    _audit("inbox.conversation_reopened", conv)
    db.session.commit()
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303


# --- contacts -----------------------------------------------------------------------


def _visible_contacts():
    stmt = select(Contact).where(Contact.client_id == g.client.id)
    if current_account.chat_level < inbox.SEE_ALL:
        visible_ids = inbox.visible_conversations(current_account).with_only_columns(Conversation.contact_id)
        stmt = stmt.where(Contact.id.in_(visible_ids))
    return stmt


def _sees_number_of(contact: Contact) -> bool:
    """Whether the current user may know that ``contact`` has its phone number: it
    views phones and the contact is one it sees at its chat level."""
    return bool(current_account.view_phones) and (
        db.session.scalar(_visible_contacts().where(Contact.id == contact.id).with_only_columns(Contact.id))
        is not None
    )


def _contact_creation_key() -> str:
    return f"contacts:{current_account.id}" if current_account else request.remote_addr or ""


@bp.route("/contacts", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], key_func=_contact_creation_key)
def contacts():
    errors = {}
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()
        phone = inbox.normalise_phone(request.form.get("phone"))
        email = (request.form.get("email") or "").strip() or None
        existing = None
        if not name or len(name) > 120:
            errors["name"] = _("Type a name of up to 120 characters.")
        if phone is None:
            errors["phone"] = _("Type a phone number with area code, e.g. (11) 98765-4321.")
        else:
            existing = db.session.scalar(
                select(Contact).where(Contact.client_id == g.client.id, Contact.phone == phone)
            )
            if existing is not None and _sees_number_of(existing):
                errors["phone"] = _("A contact with this phone number already exists.")
        if email and (len(email) > 254 or "@" not in email):
            errors["email"] = _("Type a valid e-mail.")
        if not errors and existing is not None:
            # The number belongs to a contact this user may not see (its number is masked
            # for them, or the contact is outside their chat level). Saying "already
            # exists" would confirm whose number it is, one guess at a time. So the
            # answer is the one a new number gets ("Contact saved.", back to the list)
            # and the existing contact is left as it is: its name and e-mail are not
            # overwritten by someone who cannot see it, and no duplicate is made (one
            # contact per number, so its conversations stay in one place). Below chat
            # level 5 a new contact is not listed until it has a conversation the user
            # sees, so both answers look alike in the list too; at level 5+ without
            # view-phones a missing row is the only hint, so creations are throttled per
            # user (above) and each such attempt is audited for the reseller.
            _audit("inbox.contact_create_hidden_duplicate", existing)
            db.session.commit()
            flash(_("Contact saved."), "success")
            return redirect(url_for("tenant.contacts")), 303
        if not errors:
            contact = Contact(
                reseller_id=g.client.reseller_id, client_id=g.client.id, name=name, phone=phone, email=email
            )
            db.session.add(contact)
            db.session.flush()
            _audit("inbox.contact_created", contact)
            db.session.commit()
            flash(_("Contact saved."), "success")
            return redirect(url_for("tenant.contacts")), 303
    q = (request.args.get("q") or "").strip()
    stmt = _visible_contacts()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        like = f"%{q.lower()}%"
        condition = func.lower(Contact.name).like(like)
        if digits and current_account.view_phones:
            # Without view-phones, numbers are not searchable either (they would leak).
            condition = condition | Contact.phone.like(f"%{digits}%")
        stmt = stmt.where(condition)
    rows = db.session.scalars(stmt.order_by(Contact.name).limit(200)).all()
    return render_template(
        "tenant/contacts.html", client=g.client, contacts=rows, q=q, errors=errors, form=request.form
    ), (422 if errors else 200)


@bp.post("/contacts/<int:contact_id>/start")
def start_conversation(contact_id: int):
    contact = db.session.scalar(_visible_contacts().where(Contact.id == contact_id))
    if contact is None:
        abort(404)
    body = (request.form.get("body") or "").strip() or _("Hello! How can we help you?")
    conv = db.session.scalar(
        select(Conversation).where(Conversation.contact_id == contact.id, Conversation.status == OPEN)
    )
    if conv is None:
        conv = Conversation(
            reseller_id=contact.reseller_id,
            client_id=contact.client_id,
            contact_id=contact.id,
            assigned_account_id=current_account.id,
        )
        db.session.add(conv)
        db.session.flush()
    elif not inbox.can_see(current_account, conv):
        abort(403)
    try:
        inbox.send(conv, current_account, body[:4000], template=True, actor_id=g.get("actor_account_id"))
    except inbox.WindowRefused as refused:
        db.session.rollback()
        flash(_window_message(refused.reason), "error")
        return redirect(url_for("tenant.contacts")), 303
    db.session.commit()
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303


# --- teams (chat level 6) -------------------------------------------------------------


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    if not inbox.can_manage_inbox(current_account):
        abort(403)
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()
        if not name or len(name) > 80:
            flash(_("Type a team name of up to 80 characters."), "error")
        elif db.session.scalar(select(Team.id).where(Team.client_id == g.client.id, Team.name == name)):
            flash(_("A team with this name already exists."), "error")
        else:
            team = Team(reseller_id=g.client.reseller_id, client_id=g.client.id, name=name)
            db.session.add(team)
            db.session.flush()
            _audit("inbox.team_created", team)
            db.session.commit()
        return redirect(url_for("tenant.teams")), 303
    rows = db.session.scalars(select(Team).where(Team.client_id == g.client.id).order_by(Team.name)).all()
    return render_template("tenant/teams.html", client=g.client, teams=rows, users=_client_users())


@bp.post("/channel")
def channel():
    """Level 6: turn on the inbound channel, or rotate its secret (the old one stops
    working at once)."""
    if not inbox.can_manage_inbox(current_account):
        abort(403)
    client = g.client
    if client.channel_key:
        client.channel_secret = secrets.token_hex(32)
        _audit("inbox.channel_secret_rotated", client)
        flash(_("New channel secret created: update it where your messages come from."), "success")
    else:
        ensure_channel(client)
        _audit("inbox.channel_created", client)
        flash(_("Channel turned on."), "success")
    db.session.commit()
    return redirect(url_for("tenant.teams")), 303


@bp.post("/teams/<int:team_id>/members")
def team_members(team_id: int):
    if not inbox.can_manage_inbox(current_account):
        abort(403)
    team = db.session.scalar(select(Team).where(Team.id == team_id, Team.client_id == g.client.id))
    if team is None:
        abort(404)
    wanted = {parse_int(v, min=1) for v in request.form.getlist("account_id")}
    allowed = {a.id for a in _client_users()}
    if not wanted <= allowed:  # a value that is no id (None) is never allowed
        abort(404)
    for member in list(team.members):
        if member.account_id not in wanted:
            db.session.delete(member)
    present = {m.account_id for m in team.members}
    for account_id in wanted - present:
        db.session.add(
            TeamMember(
                reseller_id=team.reseller_id, client_id=team.client_id, team_id=team.id, account_id=account_id
            )
        )
    _audit("inbox.team_members_set", team, members=sorted(wanted))
    db.session.commit()
    return redirect(url_for("tenant.teams")), 303


# --- inbound channel ----------------------------------------------------------------


@inbound_bp.post("/inbound/<channel_key>")
@public
@csrf.exempt
@limiter.limit("600 per minute")
def inbound(channel_key: str):
    """A contact's message from the channel, signed with the client's channel secret
    (``X-Signature: sha256=<hex HMAC of the raw body>``)."""
    reseller = require_reseller()
    client = db.session.scalar(
        select(Client).where(
            Client.channel_key == channel_key, Client.reseller_id == reseller.id, Client.deleted_at.is_(None)
        )
    )
    raw = request.get_data(cache=True)
    if client is None or not inbox.signature_ok(
        client.channel_secret, raw, request.headers.get("X-Signature")
    ):
        return jsonify(error="invalid signature"), 401
    message = _inbound_message(raw)
    if message is None:
        return jsonify(error="expected JSON with from (phone), text (≤ 4000) and id"), 400
    result = inbox.receive(client, **message)
    db.session.commit()
    return jsonify(
        message_id=result.message.id,
        conversation_id=result.message.conversation_id,
        duplicate=result.duplicate,
        window=result.window is not None or result.duplicate,
        refused=result.refused,
    ), (200 if result.duplicate else 201)


def _inbound_message(raw: bytes) -> dict | None:
    """The fields of an inbound message as ``inbox.receive`` takes them, or ``None``
    when the body is not a JSON object with a phone, a text (≤ 4000) and an id."""
    try:
        # UTF-8 text only: json.loads(bytes) would also read UTF-16/32, whose NUL bytes
        # the NUL guard (core.validation) does not see; a raw NUL in text is no JSON.
        payload = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    sender, text, external_id, name = (payload.get(key) for key in ("from", "text", "id", "name"))
    # The phone and the id may come as numbers; booleans, lists and objects are no message.
    scalars = all(isinstance(v, str | int) and not isinstance(v, bool) for v in (sender, external_id))
    if not scalars or not isinstance(text, str) or not isinstance(name, str | None):
        return None
    phone = inbox.normalise_phone(str(sender))
    text, external_id = text.strip(), str(external_id).strip()[:100]
    if phone is None or not text or not external_id or len(text) > 4000:
        return None
    return dict(phone=phone, name=(name or "")[:120] or None, text=text, external_id=external_id)


def ensure_channel(client: Client) -> None:
    """Give the client its inbound channel key and secret (once)."""
    if not client.channel_key:
        client.channel_key = secrets.token_hex(16)
        client.channel_secret = secrets.token_hex(32)


# The client's own users (workspace permission "manage users"): tenant/workspace_users.py.
