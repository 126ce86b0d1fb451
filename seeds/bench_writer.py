"""Bulk rows into tables of the session's transaction: COPY on PostgreSQL, executemany on
SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import DBAPIError

from core.extensions import db


class BulkWriter:
    """Bulk rows into tables of the session's transaction: COPY or executemany."""

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.raw = self.connection.connection.driver_connection
        self.references_checked = True
        self.timings: dict[str, float] = {}
        if self.postgres:
            # The generator makes every reference itself; checking 9 million of them one
            # by one would double the load time. Only a superuser may switch them off.
            try:
                with self.connection.begin_nested():
                    self.connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                self.references_checked = False
            except DBAPIError:  # insufficient privilege: keep the checks
                self.references_checked = True

    @property
    def forward_references(self) -> bool:
        """May a row name an id that a later pass inserts? (Else an UPDATE fills it in.)"""
        return not self.references_checked

    def reserve(self, table: Table, count: int) -> int:
        """The first of ``count`` consecutive ids nobody else will get."""
        if self.postgres:
            seq = self.connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
            first = self.connection.scalar(text("SELECT nextval(:s)"), {"s": seq})
            if count > 1:
                self.connection.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": first + count - 1})
            return first
        return self.connection.scalar(select(func.coalesce(func.max(table.c.id), 0) + 1))

    def write(self, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        started = time.perf_counter()
        count = 0
        if self.postgres:
            sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - model names
            cursor = self.raw.cursor()
            cursor.executemany(sql, map(_sqlite_row, rows))
            count = cursor.rowcount
        self.timings[table.name] = self.timings.get(table.name, 0.0) + time.perf_counter() - started
        return count


def _sqlite_row(row: tuple) -> tuple:
    # Stored the way SQLAlchemy's SQLite types store them (ISO text).
    return tuple(
        v.isoformat(" ") if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
        for v in row
    )
