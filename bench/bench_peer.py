"""The client list against Flask-Admin 2.2's list view of the very same rows.

Flask-Admin (``../shared/peers/``) is what many Flask teams would reach for instead of a
hand-built list. Here its ``ModelView`` reads the bench database's own ``clients`` table
(the bench reseller's live clients, 25 a page, as ours), in the same process, and the two
take turns request by request, so the ratio holds on a shared machine. Target (issue 12):
our page 1 ≤ 10 ms and ≤ 0.5 × Flask-Admin's, each sort and the default.

Bench-only dependency: ``requirements-bench.txt`` (``make bench`` installs it).
"""

from __future__ import annotations

import datetime
import os
import sys

from common import RUNS, WARMUP, logged_in_client, machine, make_app, medians_ms, save, sqlalchemy_url
from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import ResellerHost
from seeds.bench_data import BENCH_HOST
from tenant.models import SORTABLE_COLUMNS

PAGE1_TARGET_MS = 10.0
PEER_RATIO_TARGET = 0.5

peer_app = Flask("flask_admin_peer")
peer_app.config.update(SQLALCHEMY_DATABASE_URI=sqlalchemy_url(), SECRET_KEY=os.urandom(16).hex())
peer_db = SQLAlchemy(peer_app)
Babel(peer_app)  # Flask-Admin translates through Flask-Babel when it is installed
RESELLER_ID = 0  # set in main(): the bench reseller


class PeerClient(peer_db.Model):
    """The columns of our list, read-only, from our own table."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int]
    trade_name: Mapped[str]
    legal_name: Mapped[str]
    plan_name: Mapped[str | None]
    status: Mapped[str]
    sessions_remaining: Mapped[int]
    suspended: Mapped[bool]
    due_date: Mapped[datetime.date | None]
    last_payment_date: Mapped[datetime.date | None]
    created_at: Mapped[datetime.datetime]
    payment_type: Mapped[str | None]
    payment_status: Mapped[str | None]
    inactivated_at: Mapped[datetime.datetime | None]
    deleted_at: Mapped[datetime.datetime | None]


# The list's columns, in its order (Flask-Admin sorts by column index).
COLUMNS = list(SORTABLE_COLUMNS)


class ClientView(ModelView):
    column_list = COLUMNS
    column_sortable_list = COLUMNS
    # As ../shared/peers/flask_admin_peer.py configures it (there 50 a page; 25 here, as its
    # timer sets it): the same filters and the XLSX export button.
    column_filters = [
        "trade_name",
        "legal_name",
        "status",
        "id",
        "plan_name",
        "suspended",
        "created_at",
        "payment_type",
        "payment_status",
    ]
    page_size = 25
    can_export = True
    export_types = ["xlsx"]
    export_max_rows = 0
    can_create = can_edit = can_delete = False

    def _live(self, query):
        return query.filter(
            PeerClient.reseller_id == RESELLER_ID,
            PeerClient.inactivated_at.is_(None),
            PeerClient.deleted_at.is_(None),
        )

    def get_query(self):
        return self._live(super().get_query())

    def get_count_query(self):
        return self._live(super().get_count_query())


Admin(peer_app).add_view(ClientView(PeerClient, peer_db, endpoint="client"))

# (label, our query string, Flask-Admin's query string): the same page of the same rows.
SORTS = [(None, "", "")] + [(c, f"sort={c}&dir=asc", f"sort={i}") for i, c in enumerate(COLUMNS)]
CASES = []
for column, ours, peer in SORTS:
    CASES.append((f"page 1 {column or 'default sort'} asc", ours, peer))
    if column:
        CASES.append((f"page 1 {column} desc", ours.replace("dir=asc", "dir=desc"), f"{peer}&desc=1"))


def main() -> int:
    global RESELLER_ID
    app = make_app()
    http, base = logged_in_client(app)
    with app.app_context():
        host = select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST)
        RESELLER_ID = db.session.scalar(host)
    peer = peer_app.test_client()
    before = machine()
    print(
        f"client list against Flask-Admin 2.2 (ModelView) on the same rows; medians of "
        f"{RUNS} runs after {WARMUP} warm-ups, taking turns; "
        f"load average {before['load1']} on {before['cpus']} CPUs"
    )
    print(f"{'case':34} {'ours p':>7} {'ours f':>7} {'F-Admin':>8} {'ratio':>6}  verdict")
    results, hits = [], 0
    for label, ours, theirs in CASES:
        url = f"{base}/reseller/clients" + (f"?{ours}" if ours else "")
        peer_url = "/admin/client/" + (f"?{theirs}" if theirs else "")

        def partial(u=url):
            assert http.get(u, headers={"HX-Request": "true"}).status_code == 200

        def full(u=url):
            assert http.get(u).status_code == 200

        def flask_admin(u=peer_url):
            response = peer.get(u)
            assert response.status_code == 200, (u, response.status_code)

        measured = medians_ms({"partial": partial, "full": full, "flask_admin": flask_admin})
        ours_ms = max(measured["partial"], measured["full"])
        ratio = ours_ms / measured["flask_admin"]
        missed = []
        if ours_ms > PAGE1_TARGET_MS:
            missed.append(f"> {PAGE1_TARGET_MS:g} ms")
        if ratio > PEER_RATIO_TARGET:
            missed.append(f"> {PEER_RATIO_TARGET}× Flask-Admin")
        hits += not missed
        print(
            f"{label:34} {measured['partial']:7.1f} {measured['full']:7.1f} {measured['flask_admin']:8.1f} "
            f"{ratio:6.2f}  {'MISSED ' + ', '.join(missed) if missed else 'ok'}",
            flush=True,
        )
        results.append({"case": label, **measured, "ratio": ratio, "missed": missed})
    print(f"\npage 1 within both targets: {hits}/{len(CASES)}; load average {machine()['load1']}")
    print(f"results in {save('peer', {'machine': before, 'results': results})}")
    return 0 if hits == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
