"""A reseller's hosts: the platform subdomain and custom domains, which one e-mailed links
use (the canonical URL), the DNS record a custom domain needs and whether it is there.

DNS is asked through one function, :func:`resolver`: the system's (dnspython for the
CNAME, the socket library for addresses) unless the application was given another in
``app.extensions["dns_resolver"]`` (the tests: there is no network).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth.models import Account, Login
from auth.staff import active_owners
from core import audit, branding, links, mail
from core.extensions import db
from core.models import Reseller, ResellerHost
from core.tenancy import reseller_id_of_host

HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class HostRefused(ValueError):
    """The host change cannot be made; the message says why."""


class NeedsConfirmation(HostRefused):
    """Removing the host this very page was opened on: asked once more."""


@dataclass(frozen=True)
class DnsAnswer:
    cnames: tuple[str, ...] = ()
    addresses: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class HostCheck:
    host: str
    points_to_us: bool
    target: str
    found: DnsAnswer


def normalise_host(value: str | None) -> str:
    """Lower case, no trailing dot, an internationalised name in its ASCII (punycode) form."""
    host = (value or "").strip().rstrip(".").lower()
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # else it stays non-ASCII: valid_host refuses it
            host = host.encode("idna").decode("ascii")
    return host


def valid_host(host: str) -> bool:
    """A DNS name of letters, digits and hyphens with at least one dot (or ``localhost``
    forms the demo uses)."""
    return bool(HOST_RE.match(host)) and ("." in host or host == "localhost")


def system_resolver(host: str) -> DnsAnswer:
    cnames: list[str] = []
    try:
        answer = dns.resolver.resolve(host, "CNAME", lifetime=3)
        cnames = [normalise_host(r.target.to_text()) for r in answer]
    except (dns.exception.DNSException, OSError):
        pass
    addresses: set[str] = set()
    for record in ("A", "AAAA"):  # dnspython, not getaddrinfo: a bounded wait (3 s a question)
        with contextlib.suppress(dns.exception.DNSException, OSError):
            addresses |= {r.to_text() for r in dns.resolver.resolve(host, record, lifetime=3)}
    return DnsAnswer(tuple(cnames), frozenset(addresses))


def resolver():
    return current_app.extensions.get("dns_resolver") or system_resolver


def is_platform_host(host: str) -> bool:
    domain = current_app.config.get("PLATFORM_DOMAIN")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def ordered_hosts(reseller: Reseller) -> list[ResellerHost]:
    return sorted(reseller.hosts, key=lambda h: h.id or 0)


def cname_target(reseller: Reseller) -> str:
    """What a custom domain's CNAME record points at."""
    configured = current_app.config.get("PLATFORM_CNAME_TARGET")
    if configured:
        return configured
    hosts = ordered_hosts(reseller)
    platform = [h.host for h in hosts if is_platform_host(h.host)]
    return (platform or [h.host for h in hosts] or [""])[0]


def check(reseller: Reseller, host: str) -> HostCheck:
    """Whether ``host`` reaches us: its CNAME names the target, or it resolves to one
    of the target's addresses (an apex domain cannot have a CNAME)."""
    resolve = resolver()
    target = cname_target(reseller)
    found = resolve(host)
    ok = target in found.cnames
    if not ok and found.addresses:
        ok = bool(found.addresses & resolve(target).addresses)
    return HostCheck(host=host, points_to_us=ok, target=target, found=found)


def canonical_host(reseller: Reseller) -> str | None:
    return urlsplit(reseller.canonical_url or "").hostname


# A reseller's hosts, platform subdomain included: enough for brands and regions, and a
# bound on what one account may hold of the platform's routing table.
MAX_HOSTS = 20


def _claimable(host: str) -> bool:
    """A name a reseller may claim for itself: not an address (which would route every
    request reaching that address by IP to it), not a local name, and not a name under
    the platform's own domain (those are the platform's to give)."""
    last_label = host.rsplit(".", 1)[-1]
    if last_label.isdigit():
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return False
    return not is_platform_host(host)


def add_host(reseller: Reseller, value: str) -> ResellerHost:
    host = normalise_host(value)
    if not valid_host(host):
        raise HostRefused(_l("“%(host)s” is not a valid host name (like help.example.com).", host=value))
    if not _claimable(host):
        raise HostRefused(
            _l("%(host)s cannot be added: use a domain of your own (like help.example.com).", host=host)
        )
    if len(reseller.hosts) >= MAX_HOSTS:
        raise HostRefused(_l("A reseller may have up to %(count)s hosts.", count=MAX_HOSTS))
    owner = reseller_id_of_host(host)
    if owner == reseller.id:
        raise HostRefused(_l("%(host)s is already one of your hosts.", host=host))
    if owner is not None:
        raise HostRefused(_l("%(host)s is already in use by another account on this platform.", host=host))
    row = ResellerHost(reseller_id=reseller.id, host=host)
    reseller.hosts.append(row)
    db.session.flush()
    audit.record("reseller.host_added", row, details={"host": host})
    return row


def remove_host(reseller: Reseller, row: ResellerHost, *, request_host: str, confirmed: bool) -> None:
    """Remove a host, never the last one nor the canonical one, and the one this page
    was opened on only when ``confirmed`` (the page on it stops answering)."""
    if len(reseller.hosts) <= 1:
        raise HostRefused(_l("A reseller needs at least one host."))
    if row.host == canonical_host(reseller):
        raise HostRefused(
            _l("%(host)s is the address of e-mailed links: choose another first.", host=row.host)
        )
    if row.host == request_host and not confirmed:
        raise NeedsConfirmation(
            _l(
                "You are using %(host)s right now: after removing it this page stops answering there.",
                host=row.host,
            )
        )
    audit.record("reseller.host_removed", row, details={"host": row.host})
    reseller.hosts.remove(row)
    db.session.delete(row)


def set_canonical(reseller: Reseller, value: str) -> None:
    """The scheme, host (one of the reseller's) and port of every e-mailed link."""
    url = (value or "").strip().rstrip("/").lower()
    if not links.valid_canonical_url(url):
        raise HostRefused(_l("Write the address as https://host (a port may follow)."))
    if urlsplit(url).hostname not in {h.host for h in reseller.hosts}:
        raise HostRefused(_l("The address must use one of your hosts."))
    if urlsplit(url).scheme != "https" and current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        # In production every e-mailed link (password resets, invitations) is HTTPS.
        raise HostRefused(_l("Write the address as https://host (a port may follow)."))
    before = reseller.canonical_url
    if url == before:
        return
    reseller.canonical_url = url
    audit.record(
        "reseller.canonical_url_changed",
        reseller,
        reseller_id=reseller.id,
        details={"before": before, "after": url},
    )
    _tell_owners(reseller, before, url)


def _tell_owners(reseller: Reseller, before: str | None, after: str) -> None:
    """Every e-mailed link (password resets, invitations) follows the canonical address:
    each owner hears of its change, so one made without them does not go unseen."""
    owners = db.session.scalars(
        select(Login.email)
        .join(Account, Account.login_id == Login.id)
        .where(Account.id.in_(active_owners(reseller.id)))
    ).all()
    if not owners:
        return
    text = _(
        "The address used in every link e-mailed by %(name)s changed from %(before)s to %(after)s.\n\n"
        "If you did not expect this change, review the hosts in the settings and the audit log.",
        name=reseller.name,
        before=before or "—",
        after=after,
    )
    mail.send_mail(
        sorted(owners),
        _("The address of your e-mailed links changed"),
        text,
        **branding.mail_identity(reseller),
    )
