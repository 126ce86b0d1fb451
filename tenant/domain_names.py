"""What a domain name is, as a client's domain: the one normaliser (seed 003).

Pure functions: no database. ``tenant.domains`` re-exports them as its API.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache

import idna
from flask_babel import gettext as _
from publicsuffixlist import PublicSuffixList

from tenant.domain_models import DOMAIN_LENGTH

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class DomainRejected(ValueError):
    """Not a domain a client can own; the message, translated, says why."""


@cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List shipped with the package (no network), read once."""
    return PublicSuffixList()


def _strip_decoration(value: str) -> str:
    """What people paste: ``@empresa.com.br``, ``joao@empresa.com.br``,
    ``https://www.empresa.com.br/contato``: the host name alone."""
    text = value.strip()
    text = _SCHEME.sub("", text)
    for separator in "/?#":
        text = text.split(separator, 1)[0]
    text = text.rsplit("@", 1)[-1]
    if ":" in text and not text.startswith("[") and text.count(":") == 1:
        text = text.split(":", 1)[0]  # a port
    return text.strip().rstrip(".")


def normalise_domain(value: str) -> str:
    """The stored form of a domain: lower-case ASCII (IDNA 2008, punycode), no trailing dot.

    Accepts a bare domain, ``@domain``, an e-mail address or a web address (scheme, port,
    path and a leading ``www.`` dropped: nobody's e-mail is at ``www.``). Subdomains such as
    ``filial.empresa.com.br`` are kept as written: they are domains of their own.
    Raises :class:`DomainRejected` for an empty value, an IP address, a name that is not a
    valid host name, one over 253 characters, or a public suffix alone (``com.br``, ``com``,
    ``github.io``): a client owns a name *under* a suffix, never the suffix.
    """
    text = _strip_decoration(value or "")
    if not text:
        raise DomainRejected(_("Enter a domain, for example empresa.com.br."))
    if "\x00" in text or len(text) > 4 * DOMAIN_LENGTH:
        raise DomainRejected(_("This is not a valid domain."))
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        pass
    else:
        raise DomainRejected(_("Enter a domain name, not an IP address."))
    if text.lower().startswith("www."):
        text = text[4:]
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise DomainRejected(_("This is not a valid domain.")) from None
    if len(ascii_form) > DOMAIN_LENGTH:
        raise DomainRejected(_("A domain has at most %(n)d characters.", n=DOMAIN_LENGTH))
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise DomainRejected(_("This is not a valid domain."))
    if _public_suffixes().is_public(ascii_form):
        raise DomainRejected(
            _("%(domain)s is a public suffix: enter the client's own domain under it.", domain=ascii_form)
        )
    return ascii_form


def domain_of_email(email: str) -> str | None:
    """The normalised domain of an e-mail address, or ``None`` when it has none usable."""
    text = (email or "").strip()
    if text.count("@") < 1:
        return None
    local, _at, host = text.rpartition("@")
    if not local or not host or "/" in host or ":" in host:
        return None
    try:
        return normalise_domain(host)
    except DomainRejected:
        return None


def parent_domains(domain: str) -> list[str]:
    """``domain`` and each parent down to its registrable name, longest first:
    ``sp.empresa.com.br`` -> ``[sp.empresa.com.br, empresa.com.br]``."""
    registrable = _public_suffixes().privatesuffix(domain) or domain
    labels = domain.split(".")
    out = []
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        out.append(candidate)
        if candidate == registrable:
            break
    return out


def display_domain(domain: str) -> str:
    """A stored domain as people read it (``xn--caf-dma.com.br`` -> ``café.com.br``)."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def name_of_domain(domain: str) -> str:
    """A company name guessed from its domain, for a client created from an e-mail:
    ``construtora-lima.com.br`` -> ``Construtora Lima`` (staff complete it later)."""
    registrable = _public_suffixes().privatesuffix(domain) or domain
    label = display_domain(registrable).split(".", 1)[0]
    words = label.replace("-", " ").replace("_", " ").split()
    return " ".join(word[:1].upper() + word[1:] for word in words) or domain
