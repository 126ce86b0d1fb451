"""Time helpers. Datetimes are stored naive in UTC; dates are calendar dates."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today_local() -> date:
    """Today's date in Brazil, which is what due dates and filters mean."""
    return datetime.now(LOCAL_TZ).date()
