"""The inbox pages: the conversation lists and one conversation (send, take, assign,
close, reopen)."""

from __future__ import annotations

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account, is_impersonating
from core.extensions import db
from core.feedback import back_to, stay, tell
from core.tenancy import current_client, get_or_404
from core.validation import parse_int
from tenant import inbox, inbox_list, reads, users
from tenant.directory import teams_of
from tenant.forms import AssignForm, MessageForm
from tenant.inbox_models import Conversation, Team
from tenant.states import ConversationStatus, WindowRefusal
from tenant.views.blueprints import bp
from tenant.windows import WindowRefused, open_window

PAGE_SIZE = 50
VIEWS = ("mine", "queue", "team", "all")


def _view_allowed(account, view: str) -> bool:
    return {
        "mine": True,
        "queue": account.chat_level >= inbox.TAKE_FROM_QUEUE,
        "team": account.chat_level >= inbox.SEE_TEAMS,
        "all": account.chat_level >= inbox.SEE_ALL,
    }[view]


@bp.get("/")
def home():
    account = current_account._get_current_object()
    view = request.args.get("view", "mine")
    if view not in VIEWS:
        view = "mine"
    status = request.args.get("status", ConversationStatus.OPEN)
    if status not in tuple(ConversationStatus):
        status = ConversationStatus.OPEN
    views = [v for v in VIEWS if _view_allowed(account, v)]
    values = {
        "client": current_client,
        "rows": inbox_list.rows(account, view=view, status=status, limit=PAGE_SIZE),
        "unread_tabs": reads.unread_per_tab(account, views),
        "view": view,
        "status": status,
        "views": views,
    }
    # htmx asks for the list alone when a live event arrives (static/app/live.js).
    if request.headers.get("HX-Request"):
        return render_template("tenant/_inbox_list.html", **values)
    return render_template("tenant/inbox.html", preference=reads.preference_of(account), **values)


def _conversation(conversation_id: int) -> Conversation:
    conversation = db.session.scalar(
        inbox.visible_conversations(current_account).where(Conversation.id == conversation_id)
    )
    if conversation is None:
        abort(404)
    return conversation


# What an action's htmx answer swaps: the workspace's page (tenant/layout.html).
WORKSPACE_PART = "#workspace-body"


def _back_to(conversation: Conversation):
    """The conversation's page again (a redirect, or for htmx its part swapped), with what
    the action told."""
    return back_to(url_for("tenant.conversation", conversation_id=conversation.id), WORKSPACE_PART)


@bp.get("/conversations/<int:conversation_id>")
def conversation(conversation_id: int):
    conv = _conversation(conversation_id)
    contact = conv.contact
    can_assign = inbox.can_assign(current_account)
    if not is_impersonating():
        # Staff acting as the user read nothing on the user's behalf.
        reads.mark_read(current_account, conv)
        db.session.commit()
    return render_template(
        "tenant/conversation.html",
        client=current_client,
        conversation=conv,
        contact=contact,
        messages=inbox.messages_of(conv),
        window=open_window(contact),
        colleagues=users.assignable_users(current_client) if can_assign else [],
        teams=teams_of(current_client) if can_assign else [],
        can_take=inbox.can_take(current_account, conv),
        can_assign=can_assign,
        can_close=inbox.can_close(current_account, conv),
    )


def window_message(reason: str) -> str:
    return {
        WindowRefusal.SUSPENDED: _("This account is suspended: new conversations cannot be opened."),
        WindowRefusal.NO_SESSIONS: _(
            "No sessions left: new conversations cannot be opened. Buy extra conversations."
        ),
        WindowRefusal.WINDOW_CLOSED: _(
            "The 24-hour window with this contact is closed: send a template message to reopen it "
            "(it uses one session)."
        ),
        WindowRefusal.CLIENT_GONE: _("This client is no longer active."),
    }[reason]


@bp.post("/conversations/<int:conversation_id>/messages")
def send_message(conversation_id: int):
    conv = _conversation(conversation_id)
    form = MessageForm()
    if not form.validate():
        tell(form.body.errors[0], "error")
        return stay(url_for("tenant.conversation", conversation_id=conv.id))
    body, template = form.body.data, form.is_template
    if conv.assigned_account_id not in (None, current_account.id) and not inbox.can_assign(current_account):
        abort(403)
    if conv.assigned_account_id is None:
        conv.assigned_account_id = current_account.id
    try:
        inbox.send(conv, current_account, body, template=template, actor_id=g.get("actor_account_id"))
    except WindowRefused as refused:
        db.session.rollback()
        tell(window_message(refused.reason), "error")
        return stay(url_for("tenant.conversation", conversation_id=conv.id))
    db.session.commit()
    tell(_("Message sent."))
    return _back_to(conv)


@bp.post("/conversations/<int:conversation_id>/take")
def take(conversation_id: int):
    conv = _conversation(conversation_id)
    if current_account.chat_level < inbox.TAKE_FROM_QUEUE:
        abort(403)
    if inbox.take(conv, current_account):
        tell(_("You took this conversation."))
    else:
        tell(_("Someone else took this conversation first."), "warning")
    db.session.commit()
    return _back_to(conv)


@bp.post("/conversations/<int:conversation_id>/assign")
def assign(conversation_id: int):
    conv = _conversation(conversation_id)
    if not inbox.can_assign(current_account):
        abort(403)
    # "" keeps the current choice; any other value that is no id is no user or team of ours.
    form = AssignForm()
    raw_account, raw_team = form.account_id.data, form.team_id.data
    account_id, team_id = parse_int(raw_account, min=1), parse_int(raw_team, min=1)
    if (raw_account and account_id is None) or (raw_team and team_id is None):
        abort(404)
    assignable = {a.id: a for a in users.assignable_users(current_client)}
    if account_id and account_id not in assignable:
        abort(404)
    team = get_or_404(Team, team_id) if team_id else None
    inbox.assign(conv, account_id=account_id, team_id=team.id if team else None)
    db.session.commit()
    if account_id or team:
        tell(_assigned_message(assignable.get(account_id), team))
    else:
        tell(_("Nothing changed: choose a user or a team."), "info")
    return _back_to(conv)


def _assigned_message(assignee, team: Team | None) -> str:
    """What a transfer to a user and/or a team says."""
    if assignee is not None and team is not None:
        return _("Conversation transferred to %(name)s, team %(team)s.", name=assignee.name, team=team.name)
    if assignee is not None:
        return _("Conversation transferred to %(name)s.", name=assignee.name)
    return _("Conversation transferred to the team %(team)s.", team=team.name)


def _change_status(conversation_id: int, change) -> Conversation:
    conv = _conversation(conversation_id)
    if not inbox.can_close(current_account, conv):
        abort(403)
    change(conv)
    db.session.commit()
    return conv


@bp.post("/conversations/<int:conversation_id>/close")
def close(conversation_id: int):
    conv = _change_status(conversation_id, inbox.close)
    tell(_("Conversation with %(name)s closed.", name=conv.contact.name))
    return back_to(url_for("tenant.home"), WORKSPACE_PART)


@bp.post("/conversations/<int:conversation_id>/reopen")
def reopen(conversation_id: int):
    conv = _change_status(conversation_id, inbox.reopen)
    tell(_("Conversation reopened."))
    return _back_to(conv)
