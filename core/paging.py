"""One page of a long list: its rows, the total it pages over, and the page links."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from core.extensions import db


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, with ``None`` for a gap: 1 … 4 5 [6] 7 8 … 40."""
        pages = {1, self.pages, *range(self.page - size, self.page + size + 1)}
        out: list[int | None] = []
        for p in sorted(p for p in pages if 1 <= p <= self.pages):
            if out and p - (out[-1] or 0) > 1:
                out.append(None)
            out.append(p)
        return out


def page_of(statement, page: int, per_page: int, *order_by, scalars: bool = True) -> Page:
    """Page ``page`` (kept within the pages there are) of ``statement`` in ``order_by``:
    its total counted first; ``scalars``: rows of the first entity, else result rows."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    query = statement.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(query) if scalars else db.session.execute(query)
    return Page(rows=list(result.all()), total=total, page=page, per_page=per_page)
