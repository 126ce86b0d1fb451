"""Time helpers. Datetimes are stored naive in UTC; dates are calendar dates."""

from calendar import monthrange
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today_local() -> date:
    """Today's date in Brazil, which is what due dates and filters mean."""
    return datetime.now(LOCAL_TZ).date()


def local_date(utc_dt: datetime | None, tz: ZoneInfo | str = LOCAL_TZ) -> date | None:
    """The calendar day ``utc_dt`` (naive UTC, as stored; or aware) falls on in ``tz``
    (the reseller's zone; Brazil's by default). ``None`` stays ``None``."""
    if utc_dt is None:
        return None
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    aware = utc_dt if utc_dt.tzinfo is not None else utc_dt.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))
