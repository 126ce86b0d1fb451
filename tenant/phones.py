"""Phone numbers: the one normaliser and the one stored format, E.164 (``+5511987654321``).

Clients' and contacts' phones are both stored this way (migration 0010 converted the
contacts' older ``5511…`` digits). Brazilian numbers may be typed without the country
code; a number from elsewhere needs its ``+`` unless it comes as the 12 to 15 digits a
messaging channel sends.
"""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")
BRAZIL = "55"


def digits(value: str | None) -> str:
    return _NON_DIGITS.sub("", value or "")


def normalise_phone(value: str | None) -> str | None:
    """The E.164 form of ``value`` (``+`` and digits), or ``None`` when it is no phone number."""
    raw = (value or "").strip()
    d = digits(raw)
    international = raw.startswith("+")
    if international and not d.startswith(BRAZIL):
        return f"+{d}" if 8 <= len(d) <= 15 else None
    if d.startswith(BRAZIL) and len(d) in (12, 13):
        d = d[2:]
    if len(d) in (10, 11):
        return f"+{BRAZIL}{d}" if d[0] != "0" else None
    if not international and 12 <= len(d) <= 15 and d[0] != "0":
        return f"+{d}"  # a foreign number as a channel sends it: country code and digits
    return None


def _brazilian(d: str) -> bool:
    return d.startswith(BRAZIL) and len(d) in (12, 13)


def format_phone(phone: str | None, *, blank: str = "") -> str:
    """``+55 11 98765-4321`` for a Brazilian number, ``+<digits>`` for any other."""
    if not phone:
        return blank
    d = digits(phone)
    if _brazilian(d):
        area, number = d[2:4], d[4:]
        return f"+55 {area} {number[:-4]}-{number[-4:]}"
    return f"+{d}"


def mask_phone(phone: str | None) -> str:
    """``+55 11 ****-**21``: country and area code, the last two digits, nothing else."""
    if not phone:
        return "—"
    d = digits(phone)
    if _brazilian(d):
        return f"+55 {d[2:4]} ****-**{d[-2:]}"
    return f"+{d[:2]} ****-**{d[-2:]}"


def shown_phone(account, phone: str | None) -> str:
    """The phone as ``account`` may see it: whole with *view phones*, masked without."""
    return format_phone(phone, blank="—") if account.view_phones else mask_phone(phone)
