"""The client list's rows, written in Python: the panel's one hot loop.

A page has up to 100 rows of eleven cells, a status button and a menu of actions each.
Through Jinja a row cost about 44 µs (some sixty escaped outputs and a dozen calls through
the template context); written here, with everything a row shares (labels, URLs, the
menu's links) prepared once per page, about 12 µs. Every value a row
puts in is escaped with ``markupsafe.escape``; translations are escaped too, so a
translator's quote cannot end an attribute.

The inactivate and reactivate buttons submit the one hidden form of the page
(``#client-status``, with the CSRF token and the address to come back to) through
``form``/``formaction``, instead of a form of their own in every row.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from auth import permissions as perm
from auth.access import has_permission
from billing.states import OVERDUE_REASON
from core.formatting import date_writer, label, number_writer
from tenant.phones import format_phone
from tenant.states import ClientStatus

STATUS_FORM_ID = "client-status"
_NAME = "\x00"  # where a row's escaped name goes in a shared translation

LABELS = {
    "plan_pending": _l("pending"),
    "by_email": _l("created by e-mail"),
    "is_inactivated": _l("Inactivated"),
    "is_active": _l("Active"),
    "has_no_plan": _l("Without plan"),
    "reactivate": _l("Reactivate"),
    "inactivate": _l("Inactivate"),
    "confirm": _l(
        "Inactivate %(name)s? It leaves the list of active clients and new conversations are refused."
    ),
    "yes": _l("Yes"),
    "no": _l("No"),
    "overdue_reason": _l("Overdue"),
    "menu": _l("Actions for %(name)s"),
    "call": _l("Call"),
    "edit": _l("Edit"),
    "users": _l("Users"),
    "billing": _l("Billing"),
    "delete": _l("Delete"),
}


def _menu_item(href: str, icon: str, text: str, *, css: str = "", attrs: str = "") -> str:
    return (
        f'<li><a class="dropdown-item{css}" href="{href}"{attrs}>'
        f'<i class="bi bi-{icon}" aria-hidden="true"></i> {text}</a></li>'
    )


def _status_button(url: str, action: str, text: str, extra: str = "") -> str:
    return (
        f'<button class="btn btn-link btn-sm p-0 ms-1{extra}" type="submit" form="{STATUS_FORM_ID}" '
        f'formaction="{url}/{{id}}/{action}" title="{text}"'
    )


class ClientRows:
    """Renders ``page.rows`` (the list's ``LIST_COLUMNS``) as table rows; built per page.

    The shared parts hold ``{id}`` (the row's id) and ``\\x00`` (its escaped name)."""

    def __init__(self, clients_url: str) -> None:
        # Each label in this request's language (``core.formatting.label`` reads the
        # request's catalogue once), escaped: they go into attributes too.
        t = {key: str(escape(label(text))) for key, text in LABELS.items()}
        url = self.url = str(escape(clients_url))
        self.date, self.number = date_writer(), number_writer()
        self.pending = f' <span class="badge text-bg-warning">{t["plan_pending"]}</span>'
        self.by_email = f'<span class="badge text-bg-info" data-created-by-email>{t["by_email"]}</span>'
        self.inactivated = f'<span class="badge text-bg-secondary">{t["is_inactivated"]}</span>'
        self.active = f'<span class="badge text-bg-success">{t["is_active"]}</span>'
        self.without_plan = f'<span class="badge text-bg-light border">{t["has_no_plan"]}</span>'
        self.reactivate = f"{_status_button(url, 'reactivate', t['reactivate'])}>{t['reactivate']}</button>"
        confirm = t["confirm"] % {"name": _NAME}
        self.inactivate = (
            f"{_status_button(url, 'inactivate', t['inactivate'], ' link-secondary')} "
            f'data-confirm="{confirm}" data-confirm-ok="{t["inactivate"]}">{t["inactivate"]}</button>'
        )
        self.yes, self.no = t["yes"], f'<span class="text-body-secondary">{t["no"]}</span>'
        self.overdue = t["overdue_reason"]
        self.menu_label = t["menu"] % {"name": _NAME}
        self.call = t["call"]
        links = [_menu_item(f"{url}/{{id}}/edit", "pencil", t["edit"])]
        if has_permission(perm.CLIENT_USERS):
            links.append(_menu_item(f"{url}/{{id}}/users", "people", t["users"], attrs=" data-users-link"))
        links.append(_menu_item(f"{url}/{{id}}/billing", "receipt", t["billing"]))
        if has_permission(perm.DELETE_CLIENTS):
            links.append('<li><hr class="dropdown-divider"></li>')
            links.append(
                _menu_item(
                    f"{url}/{{id}}/delete",
                    "trash3",
                    t["delete"],
                    css=" text-danger",
                    attrs=" data-delete-link",
                )
            )
        self.links = "".join(links)

    def row(self, c) -> str:
        id_ = str(c.id)
        url, day = self.url, self.date
        name = str(escape(c.trade_name))
        photo = f'<img class="client-avatar" src="{url}/{id_}/photo" alt="">' if c.photo_path else ""
        plan = escape(c.plan_name) if c.plan_name else "—"
        if c.plan_name and c.status != ClientStatus.ACTIVE:
            plan = f"{plan}{self.pending}"
        if c.inactivated_at:
            status = f"{self.inactivated} {self.reactivate.replace('{id}', id_)}"
        else:
            badge = self.active if c.status == ClientStatus.ACTIVE else self.without_plan
            status = f"{badge} {self.inactivate.replace('{id}', id_).replace(_NAME, name)}"
        suspended = self.no
        if c.suspended:
            reason = self.overdue if c.suspension_reason == OVERDUE_REASON else escape(c.suspension_reason)
            suspended = (
                f'<span class="badge text-bg-danger" title="{escape(c.suspension_reason)}">{self.yes}</span>'
                f'<div class="small text-body-secondary cell-cut cell-cut-sm" title="{reason}">{reason}</div>'
            )
        phone = ""
        if c.phone:
            call = f"{self.call} {escape(format_phone(c.phone))}"
            phone = _menu_item(f"tel:{escape(c.phone)}", "telephone", call)
        menu_label = self.menu_label.replace(_NAME, name)
        legal = escape(c.legal_name)
        links = self.links.replace("{id}", id_)
        return (
            f'<tr data-client-id="{id_}"><td class="num text-body-secondary">{id_}</td>'
            f'<td><div class="d-flex align-items-center gap-2">{photo}'
            f'<a class="fw-semibold" href="{url}/{id_}" data-client-link>{name}</a>'
            f"{self.by_email if c.email_review_pending else ''}</div></td>"
            f'<td class="small"><span class="cell-cut" title="{legal}" data-legal-name>{legal}</span></td>'
            f"<td>{plan}</td><td>{status}</td>"
            f'<td class="num">{self.number(c.sessions_remaining)}</td><td>{suspended}</td>'
            f'<td class="text-nowrap">{day(c.due_date)}</td>'
            f'<td class="text-nowrap">{day(c.last_payment_date)}</td>'
            f'<td class="text-nowrap">{day(c.created_at)}</td>'
            '<td class="text-end"><div class="dropdown">'
            # Fixed positioning: the menu of the last rows is not cut by the scrolling wrapper.
            '<button class="btn btn-sm btn-outline-secondary row-menu-toggle" type="button" '
            'data-bs-toggle="dropdown" data-bs-popper-config=\'{"strategy":"fixed"}\' '
            f'aria-expanded="false" aria-label="{menu_label}" title="{menu_label}" data-row-menu>'
            '<i class="bi bi-three-dots-vertical" aria-hidden="true"></i></button>'
            f'<ul class="dropdown-menu dropdown-menu-end shadow-sm">{phone}{links}</ul></div></td></tr>'
        )

    def __call__(self, rows) -> Markup:
        return Markup("".join(map(self.row, rows)))  # noqa: S704 - every value escaped above
