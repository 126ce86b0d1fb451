"""Ticket numbers: per reseller, gapless under concurrency, from the reseller's counter row.

The counter row is raised by one ``UPDATE ... RETURNING`` that holds its row lock until
the ticket's transaction ends, so two tickets created at once get consecutive numbers
(never ``MAX(number) + 1``, which two transactions read alike). A rolled-back ticket
rolls its number back too.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from desk.ticket_models import TicketCounter


def next_ticket_number(reseller_id: int) -> int:
    raise_counter = (
        update(TicketCounter)
        .where(TicketCounter.reseller_id == reseller_id)
        .values(last_number=TicketCounter.last_number + 1)
        .returning(TicketCounter.last_number)
    )
    number = db.session.scalar(raise_counter)
    if number is not None:
        return number
    # The reseller's first ticket: create its counter (another transaction may be doing
    # the same; then raise theirs, waiting on its lock).
    try:
        with db.session.begin_nested():
            db.session.add(TicketCounter(reseller_id=reseller_id, last_number=1))
        return 1
    except IntegrityError:
        return db.session.scalar(raise_counter)
