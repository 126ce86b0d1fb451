"""The staff pages of the terms of use (``/reseller/terms``): the version in force,
publishing a new one (with a preview), the versions, and who accepted each."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from core.validation import parse_int
from portal import terms
from portal.forms import TermsForm
from portal.markdown_html import render
from portal.models import MAX_BODY_CHARS, TermsVersion
from portal.views.blueprints import staff_bp


def _render(form: TermsForm, *, preview=None, status: int = 200):
    reseller = require_reseller()
    current = terms.current_version(reseller.id)
    return render_template(
        "portal/terms_admin.html",
        form=form,
        current=current,
        current_html=render(current.body) if current else None,
        preview=preview,
        versions=terms.versions(reseller.id),
        max_chars=MAX_BODY_CHARS,
    ), status


@staff_bp.get("")
def page():
    current = terms.current_version(require_reseller().id)
    return _render(TermsForm(body=current.body if current else ""))


@staff_bp.post("")
def publish():
    reseller = require_reseller()
    form = TermsForm()
    if form.action.data == "preview":
        try:
            preview = render(terms.clean_body(form.body.data))
        except terms.TermsRejected as exc:
            form.body.errors = [str(exc)]
            return _render(form, status=422)
        return _render(form, preview=preview)
    try:
        version = terms.publish(reseller.id, form.body.data, current_account)
    except terms.TermsRejected as exc:
        db.session.rollback()
        form.body.errors = [str(exc)]
        return _render(form, status=422)
    db.session.commit()
    flash(
        _("Version %(number)s published: every client user is asked to accept it.", number=version.number),
        "success",
    )
    return redirect(url_for("portal_terms.page"))


@staff_bp.get("/<int:version_id>")
def version_page(version_id: int):
    version = get_or_404(TermsVersion, version_id)
    page = parse_int(request.args.get("page"), min=1) or 1
    return render_template(
        "portal/terms_version.html",
        version=version,
        body=render(version.body),
        page=terms.acceptances(version, page),
    )
