"""The reseller's settings pages: brand and contacts, hosts, security, and the clients'
custom fields."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import require_owner, require_permission
from core.branding import asset_url as brand_asset_url
from core.branding import primary_of
from core.extensions import db
from core.models import ResellerHost
from core.tenancy import get_or_404, host_of_request, require_reseller, scoped_select
from reseller import brand_files, branding, hosts
from reseller.forms import (
    BrandForm,
    CanonicalUrlForm,
    CustomFieldForm,
    HostForm,
    HostRemoveForm,
    SecurityForm,
)
from reseller.views.blueprint import bp
from tenant.models import CustomFieldDefinition, fold


@bp.route("/settings/custom-fields", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def custom_fields():
    reseller = require_reseller()
    form = CustomFieldForm()
    if form.validate_on_submit():
        options = [o.strip() for o in (form.options.data or "").split(",") if o.strip()]
        if form.field_type.data == "select" and not options:
            form.options.errors = [_("A list needs at least one option.")]
        else:
            key = "".join(c if c.isalnum() else "_" for c in fold(form.label.data))[:40].strip("_") or "field"
            taken = set(db.session.scalars(scoped_select(CustomFieldDefinition, CustomFieldDefinition.key)))
            base, n = key, 2
            while key in taken:
                key, n = f"{base[:36]}_{n}", n + 1
            db.session.add(
                CustomFieldDefinition(
                    reseller_id=reseller.id,
                    key=key,
                    label=form.label.data.strip(),
                    field_type=form.field_type.data,
                    required=form.required.data,
                    options=options,
                    position=form.position.data or 0,
                )
            )
            db.session.commit()
            flash(_("Field added."), "success")
            return redirect(url_for("reseller.custom_fields"))
    definitions = list(
        db.session.scalars(
            scoped_select(CustomFieldDefinition).order_by(
                CustomFieldDefinition.position, CustomFieldDefinition.id
            )
        )
    )
    return render_template("reseller/custom_fields.html", form=form, definitions=definitions)


@bp.post("/settings/custom-fields/<int:field_id>/toggle")
@require_permission(perm.CLIENTS)
def custom_field_toggle(field_id: int):
    definition = get_or_404(CustomFieldDefinition, field_id)
    definition.active = not definition.active
    db.session.commit()
    if definition.active:
        flash(_("Field %(label)s turned on.", label=definition.label), "success")
    else:
        flash(_("Field %(label)s turned off.", label=definition.label), "success")
    return redirect(url_for("reseller.custom_fields"))


# --- brand, hosts and security (issue 12) ----------------------------------------------------


def _saved(form, save, endpoint: str):
    """Run ``save`` (a rule of reseller.branding): committed and back to ``endpoint``, or
    rolled back with each refusal shown on its field (``None``: render the form again)."""
    try:
        changed = save()
    except branding.SettingsRefused as exc:
        db.session.rollback()
        for key, message in exc.errors.items():
            getattr(form, key).errors = [message]
        return None
    db.session.commit()
    flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for(endpoint))


def _save_brand(reseller, form) -> dict:
    changed = branding.save_brand(
        reseller,
        name=form.name.data,
        primary_color=form.primary_color.data,
        support_email=form.support_email.data,
        support_phone=form.support_phone.data,
        support_whatsapp=form.support_whatsapp.data,
        mail_sender_name=form.mail_sender_name.data,
        # Only a form that showed the checkbox says anything about it (unchecked sends nothing).
        mail_creates_clients=form.mail_creates_clients.data if "mail_section" in request.form else None,
        payment_instructions=form.payment_instructions.data or "",
    )
    for kind in ("logo", "favicon"):
        upload = getattr(form, kind).data
        if upload:
            branding.store_image(reseller, kind, upload.read(brand_files.MAX_BYTES + 1))
            changed[kind] = True
        elif getattr(form, f"remove_{kind}").data:
            branding.remove_image(reseller, kind)
            changed[kind] = True
    return changed


@bp.route("/settings", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
def settings():
    """Brand and contacts: name, colour, logo, favicon, support contacts, sender name."""
    reseller = require_reseller()
    form = BrandForm(obj=reseller)
    if form.validate_on_submit():
        done = _saved(form, lambda: _save_brand(reseller, form), "reseller.settings")
        if done is not None:
            return done
    return render_template(
        "reseller/settings_brand.html",
        form=form,
        reseller=reseller,
        preview=branding.colour_preview(form.primary_color.data, primary_of(reseller)),
        logo_url=brand_asset_url(reseller, "logo"),
        favicon_url=brand_asset_url(reseller, "favicon"),
    )


@bp.get("/settings/brand-preview")
@require_permission(perm.STAFF_SETTINGS)
def settings_brand_preview():
    """The colour's sample and its contrast note, for the colour being typed (htmx)."""
    preview = branding.colour_preview(request.args.get("primary_color"), primary_of(require_reseller()))
    return render_template("reseller/_brand_preview.html", preview=preview)


@bp.route("/settings/security", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
@require_owner
def settings_security():
    reseller = require_reseller()
    form = SecurityForm(obj=reseller)
    if request.method == "GET":
        form.ask_code.data = "new_browser" if reseller.code_on_every_new_browser else "first_login"
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in branding.SECURITY_BOUNDS}
        values["require_staff_2fa"] = form.require_staff_2fa.data
        values["code_on_every_new_browser"] = form.ask_code.data == "new_browser"
        done = _saved(form, lambda: branding.save_security(reseller, values), "reseller.settings_security")
        if done is not None:
            return done
    return render_template(
        "reseller/settings_security.html",
        form=form,
        bounds=branding.SECURITY_BOUNDS,
        platform_purge_hours=current_app.config["CLIENT_PURGE_DELAY_HOURS"],
    )


def _hosts_page(*, host_form=None, canonical_form=None, checked=None, confirm=None, status=200):
    reseller = require_reseller()
    canonical_form = canonical_form or CanonicalUrlForm(canonical_url=reseller.canonical_url)
    return (
        render_template(
            "reseller/settings_hosts.html",
            reseller=reseller,
            hosts=hosts.ordered_hosts(reseller),
            host_form=host_form or HostForm(),
            canonical_form=canonical_form,
            remove_form=HostRemoveForm(),
            canonical_host=hosts.canonical_host(reseller),
            request_host=host_of_request(),
            cname_target=hosts.cname_target(reseller),
            is_platform_host=hosts.is_platform_host,
            checked=checked,
            confirm=confirm,
        ),
        status,
    )


@bp.route("/settings/hosts", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
@require_owner
def settings_hosts():
    """The hosts, the DNS record a custom domain needs, and the canonical address."""
    form = HostForm()
    if form.validate_on_submit():
        try:
            row = hosts.add_host(require_reseller(), form.host.data)
        except hosts.HostRefused as exc:
            db.session.rollback()
            form.host.errors = [str(exc)]
            return _hosts_page(host_form=form, status=422)
        db.session.commit()
        flash(_("Host %(host)s added. Point its DNS to us, then check it.", host=row.host), "success")
        return redirect(url_for("reseller.settings_hosts"))
    return _hosts_page(host_form=form, status=422 if form.errors else 200)


@bp.post("/settings/hosts/canonical")
@require_permission(perm.STAFF_SETTINGS)
@require_owner
def settings_canonical():
    form = CanonicalUrlForm()
    if form.validate_on_submit():
        try:
            hosts.set_canonical(require_reseller(), form.canonical_url.data)
        except hosts.HostRefused as exc:
            db.session.rollback()
            form.canonical_url.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("E-mailed links now use %(url)s.", url=require_reseller().canonical_url), "success")
            return redirect(url_for("reseller.settings_hosts"))
    return _hosts_page(canonical_form=form, status=422)


@bp.get("/settings/hosts/<int:host_id>/check")
@require_permission(perm.STAFF_SETTINGS)
@require_owner
def settings_host_check(host_id: int):
    """Ask DNS whether the host reaches us (changes nothing)."""
    row = get_or_404(ResellerHost, host_id)
    return _hosts_page(checked=hosts.check(require_reseller(), row.host))


@bp.post("/settings/hosts/<int:host_id>/remove")
@require_permission(perm.STAFF_SETTINGS)
@require_owner
def settings_host_remove(host_id: int):
    row = get_or_404(ResellerHost, host_id)
    form = HostRemoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        hosts.remove_host(
            require_reseller(), row, request_host=host_of_request(), confirmed=bool(form.confirm.data)
        )
    except hosts.NeedsConfirmation as exc:
        db.session.rollback()
        return _hosts_page(confirm={"host": row, "message": str(exc)}, status=409)
    except hosts.HostRefused as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("reseller.settings_hosts"))
    db.session.commit()
    flash(_("Host %(host)s removed.", host=row.host), "success")
    return redirect(url_for("reseller.settings_hosts"))
