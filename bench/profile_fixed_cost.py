"""Where a logged-in request's fixed cost goes: cProfile over many GETs of small pages.

Profiles, on the bench database, a logged-in GET of the client list narrowed to one
client (``?id=``, the one-row page ``bench_client_list.py`` takes the fixed cost from) as
the htmx partial and as the full page, the roles page (a trivial panel page) and ``/healthz``, each
``BENCH_PROFILE_REQUESTS`` times (default 300) after warm-ups, and prints the
cumulative time per request of the stages every request goes through (they nest:
the layout's time includes the CSRF token and the URLs it builds). ``BENCH_PROFILE_TOP=N``
also prints the N functions with the most own time; ``BENCH_PROFILE_PATHS`` (comma-separated
paths, e.g. ``/reseller/tickets?q=fatura``) profiles those full pages instead.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time

from common import logged_in_client, machine, make_app
from sqlalchemy import select

from core.extensions import db
from tenant.models import Client

REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "300"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "0"))

# (label, file ending, function name): cumulative time of each, per request.
STAGES = [
    ("whole request (test client)", "werkzeug/test.py", "open"),
    ("Flask app (wsgi_app)", "flask/app.py", "wsgi_app"),
    ("request context, cookie session opened", "flask/ctx.py", "push"),
    ("before_request hooks", "flask/app.py", "preprocess_request"),
    ("  host lookup (core.tenancy)", "core/tenancy.py", "load_request_reseller"),
    ("  session lookup (auth.session_loader)", "auth/session_loader.py", "resolve_request_user"),
    ("  login required (auth.access)", "auth/access.py", "enforce_login"),
    ("  CSRF check (flask_wtf)", "flask_wtf/csrf.py", "csrf_protect"),
    ("  NUL-byte check (core.validation)", "core/validation.py", "refuse_nul_bytes"),
    ("view function (dispatch_request)", "flask/app.py", "dispatch_request"),
    ("  template rendering (render_template)", "flask/templating.py", "render_template"),
    ("    context processors", "flask/app.py", "update_template_context"),
    ("    CSRF token (generate_csrf)", "flask_wtf/csrf.py", "generate_csrf"),
    ("    url_for", "flask/app.py", "url_for"),
    ("    template _() (core.formatting)", "core/formatting.py", "_template_gettext"),
    ("    template _() (Jinja i18n extension)", "jinja2/ext.py", "_gettext_alias"),
    ("    lazy strings (Flask-Babel gettext)", "flask_babel/__init__.py", "gettext"),
    ("    get_locale (Flask-Babel)", "flask_babel/__init__.py", "get_locale"),
    ("    has_permission (nav)", "auth/access.py", "has_permission"),
    ("after_request hooks (headers, cookie)", "flask/app.py", "process_response"),
    ("teardown (read-only COMMIT, session remove)", "flask/app.py", "do_teardown_appcontext"),
    ("SQL statements, all (execute)", "sqlalchemy/engine/base.py", "_execute_context"),
]


def stage_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float, int]]:
    rows = []
    for label, filename, function in STAGES:
        total, calls = 0.0, 0
        for (path, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if name == function and path.endswith(filename):
                # Recursive entries report their outermost cumulative time once.
                total = max(total, ct) if label.startswith("whole") else total + ct
                calls += nc
        rows.append((label, total * 1000 / requests, calls / requests))
    return rows


def profile(http, url: str, headers: dict) -> None:
    for _ in range(20):
        assert http.get(url, headers=headers).status_code == 200
    started = time.perf_counter()
    for _ in range(REQUESTS):
        http.get(url, headers=headers)
    plain_ms = (time.perf_counter() - started) * 1000 / REQUESTS
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REQUESTS):
        http.get(url, headers=headers)
    profiler.disable()
    stats = pstats.Stats(profiler)
    load = machine()
    print(f"\n## {url} {headers or ''}: {plain_ms:.2f} ms a request unprofiled (load {load['load1']})")
    print(f"{'stage (cumulative, profiled)':48} {'ms/req':>7} {'calls/req':>9}")
    for label, ms, calls in stage_times(stats, REQUESTS):
        print(f"{label:48} {ms:7.2f} {calls:9.1f}")
    if TOP:
        stats.sort_stats("tottime").print_stats(TOP)


def main() -> int:
    app = make_app()
    http, base = logged_in_client(app)
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).order_by(Client.id.desc()).limit(1))
    one_row = f"{base}/reseller/clients?id={client_id}"
    pages = [
        (one_row, {"HX-Request": "true"}),
        (one_row, {}),
        (f"{base}/reseller/roles", {}),
        (f"{base}/healthz", {}),
    ]
    if os.environ.get("BENCH_PROFILE_PATHS"):  # other pages: comma-separated paths, full pages
        pages = [(base + path, {}) for path in os.environ["BENCH_PROFILE_PATHS"].split(",")]
    only = os.environ.get("BENCH_PROFILE_ONLY")
    for url, headers in pages:
        if only and only not in url + str(headers):
            continue
        profile(http, url, headers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
