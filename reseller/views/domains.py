"""Client domains in the panel (seed 003): the *Domínios* module (``/reseller/domains``:
every domain with its client, search, add, move, remove, the reseller's webmail
overrides) and a client's *Domínios* tab. Thin views over ``tenant.domains`` and
``tenant.webmail``; linking the existing users of a new domain is shown first and done
only when confirmed."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission, require_permission
from core.extensions import db
from core.resubmit import keep_typed
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.validation import parse_int
from reseller.forms import ConfirmForm, DomainForm, DomainMoveForm, LinkLoginsForm, WebmailOverrideForm
from reseller.views.blueprint import bp
from tenant import clients as client_rules
from tenant import domains, webmail
from tenant.domain_models import ClientDomain, WebmailOverride
from tenant.models import Client

PER_PAGE = 25
# The clients the add and move forms suggest by name (more: type the client's ID).
CLIENT_CHOICES = 1000


def _domain_or_404(domain_id: int) -> ClientDomain:
    row = get_or_404(ClientDomain, domain_id)
    if row.client.deleted_at is not None:
        abort(404)
    return row


def _client_choices() -> list:
    return db.session.execute(
        scoped_select(Client, Client.id, Client.trade_name)
        .order_by(Client.trade_name_sort, Client.id)
        .limit(CLIENT_CHOICES)
    ).all()


def _target_client(raw: str | None) -> Client | None:
    """The client a form names by id ("12" or "12 - Padaria"), in this reseller only."""
    digits = (raw or "").strip().split(" ", 1)[0]
    client_id = parse_int(digits, min=1)
    if client_id is None:
        return None
    return db.session.scalar(scoped_select(Client).where(Client.id == client_id))


def _back(client: Client | None = None) -> str:
    """Where a domain action returns: the client's tab when it came from there."""
    if client is not None and request.values.get("back") == "client":
        return url_for("reseller.client_domains", client_id=client.id)
    return url_for("reseller.domains_page")


def _list_page(form=None, override_form=None, status: int = 200):
    reseller = require_reseller()
    query = (request.args.get("q") or "").strip()[:120]
    page = domains.list_domains(reseller.id, query, parse_int(request.args.get("page"), min=1) or 1, PER_PAGE)
    return (
        render_template(
            "reseller/domains.html",
            page=page,
            query=query,
            form=form or DomainForm(),
            override_form=override_form or WebmailOverrideForm(),
            move_form=DomainMoveForm(),
            confirm_form=ConfirmForm(),
            overrides=webmail.overrides_of(reseller.id),
            client_choices=_client_choices(),
            display_domain=domains.display_domain,
        ),
        status,
    )


def _added(row: ClientDomain, back: str):
    """After adding: the preview of the unlinked users of the domain, or straight back."""
    if domains.unlinked_logins(row.reseller_id, row.domain):
        return redirect(url_for("reseller.domain_link", domain_id=row.id, back=back))
    flash(
        _("Domain %(domain)s added to %(client)s.", domain=row.domain, client=row.client.trade_name),
        "success",
    )
    if back == "client":
        return redirect(url_for("reseller.client_domains", client_id=row.client_id))
    return redirect(url_for("reseller.domains_page"))


@bp.route("/domains", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def domains_page():
    if request.method == "GET":
        return _list_page()
    form = DomainForm()
    if not form.validate_on_submit():
        return _list_page(form=form, status=422)
    client = _target_client(form.target_client.data)
    if client is None:
        form.target_client.errors = [_("Choose a client of the list (or type its ID).")]
        return _list_page(form=form, status=422)
    try:
        row = domains.add_domain(client, form.domain.data, actor=current_account._get_current_object())
    except domains.DomainRejected as exc:
        db.session.rollback()
        form.domain.errors = [str(exc)]
        return _list_page(form=form, status=422)
    db.session.commit()
    return _added(row, "list")


@bp.route("/domains/<int:domain_id>/link", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def domain_link(domain_id: int):
    """The users of a new domain who are nobody's: shown, then linked when confirmed."""
    row = _domain_or_404(domain_id)
    form = LinkLoginsForm()
    if request.method == "POST":
        if not has_permission(perm.CLIENT_USERS):
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        linked = domains.link_logins(
            row.client, form.login_ids.data or [], actor=current_account._get_current_object()
        )
        db.session.commit()
        flash(
            _("%(n)d user(s) linked to %(client)s.", n=len(linked), client=row.client.trade_name), "success"
        )
        return redirect(_back(row.client))
    return render_template(
        "reseller/domain_link.html",
        row=row,
        logins=domains.unlinked_logins(row.reseller_id, row.domain),
        form=form,
        back=request.args.get("back") if request.args.get("back") == "client" else "list",
        may_link=has_permission(perm.CLIENT_USERS),
    )


@bp.post("/domains/<int:domain_id>/move")
@require_permission(perm.CLIENTS)
def domain_move(domain_id: int):
    row = _domain_or_404(domain_id)
    form = DomainMoveForm()
    if not form.validate_on_submit():
        abort(400)
    target = _target_client(form.target_client.data)
    if target is None:
        flash(_("Choose a client of the list (or type its ID)."), "danger")
        keep_typed()
        return redirect(url_for("reseller.domains_page"))
    try:
        domains.move_domain(row, target, actor=current_account._get_current_object())
    except domains.DomainRejected as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        keep_typed()
        return redirect(url_for("reseller.domains_page"))
    db.session.commit()
    flash(_("%(domain)s now belongs to %(client)s.", domain=row.domain, client=target.trade_name), "success")
    return redirect(url_for("reseller.domains_page", q=row.domain))


@bp.route("/domains/<int:domain_id>/remove", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def domain_remove(domain_id: int):
    """Step 1 asks (GET); step 2 removes (POST)."""
    row = _domain_or_404(domain_id)
    form = ConfirmForm()
    client = row.client
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        domains.remove_domain(row, actor=current_account._get_current_object())
        db.session.commit()
        flash(
            _("Domain %(domain)s removed from %(client)s.", domain=row.domain, client=client.trade_name),
            "success",
        )
        return redirect(_back(client))
    back = "client" if request.args.get("back") == "client" else "list"
    return render_template("reseller/domain_remove.html", row=row, form=form, back=back)


@bp.post("/domains/webmail")
@require_permission(perm.CLIENTS)
def webmail_override_add():
    form = WebmailOverrideForm()
    if not form.validate_on_submit():
        return _list_page(override_form=form, status=422)
    try:
        row = webmail.set_override(
            require_reseller().id,
            form.domain.data,
            form.is_webmail.data == "yes",
            actor=current_account._get_current_object(),
        )
    except domains.DomainRejected as exc:
        db.session.rollback()
        form.domain.errors = [str(exc)]
        return _list_page(override_form=form, status=422)
    db.session.commit()
    flash(_("Webmail setting saved for %(domain)s.", domain=row.domain), "success")
    return redirect(url_for("reseller.domains_page") + "#webmail")


@bp.post("/domains/webmail/<int:override_id>/remove")
@require_permission(perm.CLIENTS)
def webmail_override_remove(override_id: int):
    row = get_or_404(WebmailOverride, override_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webmail.remove_override(row, actor=current_account._get_current_object())
    db.session.commit()
    flash(_("%(domain)s follows the webmail list again.", domain=row.domain), "success")
    return redirect(url_for("reseller.domains_page") + "#webmail")


@bp.route("/clients/<int:client_id>/domains", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def client_domains(client_id: int):
    """The client's *Domínios* tab: its domains, add and remove."""
    client = get_or_404(Client, client_id)
    form = DomainForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                row = domains.add_domain(
                    client, form.domain.data, actor=current_account._get_current_object()
                )
            except domains.DomainRejected as exc:
                db.session.rollback()
                form.domain.errors = [str(exc)]
            else:
                db.session.commit()
                return _added(row, "client")
        status = 422
    return (
        render_template(
            "reseller/client_domains.html",
            client=client,
            rows=domains.domains_of(client),
            form=form,
            display_domain=domains.display_domain,
        ),
        status,
    )


@bp.post("/clients/<int:client_id>/reviewed")
@require_permission(perm.CLIENTS)
def client_reviewed(client_id: int):
    """ "Marcar como revisado": a client created by e-mail loses its mark."""
    client = get_or_404(Client, client_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if client_rules.mark_reviewed(client):
        db.session.commit()
        flash(_("%(client)s marked as reviewed.", client=client.trade_name), "success")
    return redirect(url_for("reseller.client_page", client_id=client.id))
