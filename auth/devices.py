"""Trusted browsers: the cookie that spares a known browser the e-mailed code."""

from __future__ import annotations

import secrets

from flask import current_app, has_request_context, request
from sqlalchemy import select

from auth.codes import keyed_digest
from auth.models import Login, TrustedDevice
from core import audit
from core.extensions import db
from core.timeutil import utcnow

DEVICE_COOKIE = "rv_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600


def _request_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _request_agent() -> str | None:
    return (request.user_agent.string or "")[:500] if has_request_context() else None


def describe_agent(user_agent: str | None) -> str:
    """A short, human name for a browser: "Chrome on Windows"."""
    if not user_agent:
        return "?"
    ua = user_agent
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        ua.split("/")[0][:40],
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        None,
    )
    return f"{browser} / {system}" if system else browser


def browser_token() -> str | None:
    token = request.cookies.get(DEVICE_COOKIE) if has_request_context() else None
    return token if token and 20 <= len(token) <= 100 else None


def device_hash(token: str | None) -> str | None:
    return keyed_digest("device", token) if token else None


def is_trusted(login: Login, token: str | None) -> bool:
    if not token:
        return False
    device = db.session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.login_id == login.id,
            TrustedDevice.token_hash == keyed_digest("device", token),
            TrustedDevice.revoked_at.is_(None),
        )
    )
    if device is None:
        return False
    device.last_used_at = utcnow()
    return True


def trust_browser(login: Login, token: str | None) -> str:
    """Trust this browser for the login; returns the browser token for the cookie."""
    token = token or secrets.token_urlsafe(32)
    token_hash = keyed_digest("device", token)
    device = db.session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.login_id == login.id, TrustedDevice.token_hash == token_hash
        )
    )
    now = utcnow()
    if device is None:
        device = TrustedDevice(
            reseller_id=login.reseller_id,
            login_id=login.id,
            token_hash=token_hash,
            user_agent=_request_agent(),
            ip=_request_ip(),
            created_at=now,
        )
        db.session.add(device)
    device.revoked_at = None
    device.last_used_at = now
    audit.record("auth.browser_trusted", login, reseller_id=login.reseller_id, actor_label=login.email)
    return token


def set_browser_cookie(response, token: str):
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response


def needs_code(login: Login, reseller) -> bool:
    """First login, or (when the reseller asks for it) a browser not trusted yet."""
    if login.verified_at is None:
        return True
    return bool(reseller.code_on_every_new_browser) and not is_trusted(login, browser_token())
