"""Input checks shared by every domain."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def clean_email(value: str | None) -> str | None:
    """The normalised, lower-case address, or ``None`` when it is not one.

    No DNS look-up; ``.test`` addresses (RFC 2606, used by the demo) are accepted.
    """
    if not value or len(value) > 254:
        return None
    try:
        return validate_email(
            value.strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError:
        return None
