"""Password policy: the breached-password corpus (auth/breached_passwords.py), its
normalisation, the unchanged length rules and the optional range-API check.

Every refusal asserted here was accepted by the 116-entry list this corpus replaced."""

from __future__ import annotations

import hashlib
import random
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask_babel import gettext

from auth import breached_passwords
from auth.passwords import MAX_PASSWORD, MIN_PASSWORD, PasswordRejected, check_password_policy
from seeds.demo import DEMO_PASSWORD
from tests.conftest import PASSWORD

TOO_COMMON = "This password is too common. Choose another one."


def verdict(password: str, **kwargs) -> str | None:
    """The policy's refusal message for ``password``, or ``None`` if it is accepted."""
    try:
        check_password_policy(password, **kwargs)
    except PasswordRejected as exc:
        return str(exc)
    return None


def too_common() -> str:
    return gettext(TOO_COMMON)


# --- the local corpus ----------------------------------------------------------------


@pytest.mark.parametrize("password", ["1qaz2wsx3edc4rfv", "qwertyuiopasdfgh", "Password@123", "123456789101"])
def test_the_issue_examples_are_refused_as_too_common(ctx, password):
    assert verdict(password) == too_common()


@pytest.mark.parametrize(
    "password",
    [
        "punksnotdead",  # rank 49,019 of the source list
        "1a2s3d4f5g6h",  # rank 50,857
        "159753258456",  # rank 99,157
        "1302alex1994",  # rank 99,389
        "123qwerty456",  # rank 99,423
        "1234567899876543",  # rank 99,455
        # Past rank 100,000 only entries of 12+ characters are kept, to rank 1,000,000:
        "jakethesnake",  # rank 300,116
        "coelacanthsucks",  # rank 600,037
    ],
)
def test_entries_deep_in_the_list_are_refused(ctx, password):
    assert verdict(password) == too_common()


def test_the_corpus_is_a_real_breached_list_loaded_once():
    words = breached_passwords.corpus()
    assert len(words) > 139_000
    assert breached_passwords.corpus() is words
    # The project's own additions (common_passwords.txt) are part of it.
    assert {"mudar", "trocarsenha", "correcthorsebatterystaple"} <= words


@pytest.mark.parametrize("password", ["QWERTYUIOPASDFGH", "PunksNotDead", "1QAZ2WSX3EDC4RFV", "PASSWORD@123"])
def test_the_comparison_ignores_case(ctx, password):
    assert verdict(password) == too_common()


@pytest.mark.parametrize(
    "password",
    [
        "sunshine2026!!",  # base after digits and symbols: sunshine
        "!!2026sunshine",  # ... on either end
        "P4ssw0rd!2026",  # leetspeak undone: password
        "dr4g0n_1234567",  # dragon
        "dragondragon12",  # a repeated unit: dragon
        "abcabcabcabc",  # one to three characters repeated
        "Mudar@2026!!!",  # the project's own Brazilian additions also have a base
        "Trocarsenha12",
    ],
)
def test_weak_variations_of_a_listed_password_are_refused(ctx, password):
    assert verdict(password) == too_common()


def test_the_suite_and_demo_passwords_pass_but_their_weak_cousins_do_not(ctx):
    assert verdict(PASSWORD) is None  # correct horse battery staple 42
    assert verdict(DEMO_PASSWORD) is None  # demo-pass-2026
    assert verdict("uma frase longa e segura 2026") is None
    # Spaces stay: the passphrase is not the famous comic's password glued together.
    assert verdict("correcthorsebatterystaple42") == too_common()
    assert verdict("Password-2026") == too_common()


def test_random_passwords_are_accepted(ctx):
    alphabet = string.ascii_letters + string.digits + string.punctuation
    for seed in range(50):
        rng = random.Random(seed)
        password = "".join(rng.choice(alphabet) for _ in range(16))
        assert verdict(password) is None, password
    # A random password made of a listed word and random characters is still refused
    # only when the word is its whole base: a random head keeps it acceptable.
    assert verdict("x7Qp2rLm9sunshine") is None
    assert verdict("sunshine83920174") == too_common()


def test_the_length_rules_come_first_and_are_unchanged(ctx):
    short = gettext("Use at least %(n)d characters.", n=MIN_PASSWORD)
    long_ = gettext("Use at most %(n)d characters.", n=MAX_PASSWORD)
    assert verdict("playstation") == short  # 11 characters
    assert verdict("playstation3") == too_common()  # 12, rank 49,054
    assert verdict("password") == short
    assert verdict("a" * MAX_PASSWORD) == too_common()
    rng = random.Random(7)
    random_max = "".join(rng.choice(string.ascii_letters) for _ in range(MAX_PASSWORD))
    assert verdict(random_max) is None
    assert verdict(random_max + "x") == long_
    # The e-mail as the password is refused as before, in the same words.
    assert verdict("owner@somewhere.test", email="Owner@Somewhere.test") == too_common()


# --- the range API (PWNED_PASSWORDS_URL) -----------------------------------------------

LEAKED = "a-fine-looking-passphrase-91"  # accepted by the local corpus


class RangeServer:
    """A Pwned Passwords range API on 127.0.0.1 answering from ``self.ranges``."""

    def __init__(self):
        self.ranges: dict[str, str] = {}
        self.paths: list[str] = []
        self.delay = 0.0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                server.paths.append(self.path)
                time.sleep(server.delay)
                body = server.ranges.get(self.path.rsplit("/", 1)[-1], "").encode()
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/range/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, password: str, count: int) -> None:
        digest = hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the API's hash
        lines = [f"{digest[5:]}:{count}", "0" * 35 + ":3", "F" * 35 + ":0"]
        self.ranges[digest[:5]] = "\r\n".join(lines)

    def close(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()


@pytest.fixture
def range_api(app, monkeypatch):
    server = RangeServer()
    monkeypatch.setitem(app.config, "PWNED_PASSWORDS_URL", server.url)
    yield server
    server.close()


def test_testing_never_has_a_range_api(app):
    assert app.config["PWNED_PASSWORDS_URL"] is None


def test_a_password_the_range_api_knows_is_refused_sending_only_the_hash_prefix(ctx, range_api):
    assert verdict(LEAKED) is None  # served nothing yet: count 0
    range_api.serve(LEAKED, 12)
    assert verdict(LEAKED) == too_common()
    prefix = hashlib.sha1(LEAKED.encode()).hexdigest().upper()[:5]  # noqa: S324
    assert range_api.paths == [f"/range/{prefix}", f"/range/{prefix}"]


def test_a_padding_entry_and_an_unknown_suffix_are_accepted(ctx, range_api):
    range_api.serve(LEAKED, 0)  # padding lines have the count 0
    assert verdict(LEAKED) is None
    assert verdict(PASSWORD) is None
    assert len(range_api.paths) == 2


def test_a_locally_common_password_never_reaches_the_range_api(ctx, range_api):
    assert verdict("Password@123") == too_common()
    assert range_api.paths == []


def test_the_range_api_down_slow_or_failing_falls_back_to_the_local_list(ctx, range_api, monkeypatch):
    range_api.serve(LEAKED, 12)
    range_api.status = 500
    assert verdict(LEAKED) is None
    range_api.status = 200
    assert breached_passwords.PWNED_TIMEOUT == 2.0
    monkeypatch.setattr(breached_passwords, "PWNED_TIMEOUT", 0.2)
    range_api.delay = 1.0
    start = time.perf_counter()
    assert verdict(LEAKED) is None
    assert time.perf_counter() - start < 0.9
    assert verdict("Password@123") == too_common()  # the local list still applies
    range_api.delay = 0.0
    range_api.close()
    assert verdict(LEAKED) is None  # connection refused


@pytest.mark.parametrize(
    "password", ["1928374655647382910 monkey", "8392017465839201Maria", "483920175638@Brasil"]
)
def test_a_long_random_part_is_not_stripped_away_to_judge_the_word_beside_it(ctx, password):
    assert verdict(password) is None


@pytest.mark.parametrize(
    "password", ["Aa123456789!", "Aa@123456789", "abc12345678!", "00000000000a", "Ｐａｓｓｗｏｒｄ＠１２３"]
)
def test_runs_of_digits_or_keys_and_full_width_forms_are_refused(ctx, password):
    assert verdict(password) == too_common()
