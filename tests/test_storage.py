"""The storage contract (core.storage), run against both backends: the local folder and
an S3 bucket served over real HTTP on loopback by moto's server (no network here, and no
test ever reaches a real bucket)."""

from __future__ import annotations

import hashlib
import io
import uuid

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from core import storage as storage_module
from core.config import ConfigError, load_settings
from core.extensions import db
from core.storage import (
    InvalidKey,
    LocalStorage,
    ObjectMissing,
    S3Storage,
    build,
    client_key,
    client_prefix,
    get_storage,
)
from core.uploads import attachment_response
from reseller import purge
from reseller.models import ClientDeletion
from tests.test_client_deletion import deleted

REGION = "us-east-1"
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str, **extra) -> dict:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
        **CREDENTIALS,
        **extra,
    }


def new_bucket(endpoint: str) -> str:
    bucket = f"attachments-{uuid.uuid4().hex[:12]}"
    raw_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def raw_client(endpoint: str):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path):
    if request.param == "local":
        return build({"STORAGE_BACKEND": "local", "STORAGE_DIR": str(tmp_path / "storage")})
    endpoint = request.getfixturevalue("s3_endpoint")
    return build(s3_settings(endpoint, new_bucket(endpoint)))


def read(backend, key: str) -> bytes:
    with backend.open(key) as stream:
        return stream.read()


class Exploding(io.RawIOBase):
    """A stream that yields ``good`` bytes and then fails, like a dropped upload."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            raise OSError("connection reset mid-upload")
        size = min(len(buffer), self.left, 64 * 1024)
        buffer[:size] = b"x" * size
        self.left -= size
        return size


KEY = "reseller/1/client/2/tickets/3/a1b2c3"


def test_a_stored_object_reads_back_and_exists(backend):
    assert not backend.exists(KEY)
    backend.put(KEY, io.BytesIO(b"hello attachment"), "text/plain; charset=utf-8")
    assert backend.exists(KEY)
    assert read(backend, KEY) == b"hello attachment"


def test_an_opened_object_streams_through_the_apps_own_response(app, backend):
    backend.put(KEY, io.BytesIO(b"%PDF-1.4 body"), "application/pdf")
    with app.test_request_context():
        response = attachment_response(backend.open(KEY), "application/pdf", "nota.pdf", size=13)
        body = b"".join(response.response)
        response.close()
    assert body == b"%PDF-1.4 body"
    assert response.headers["Content-Disposition"].startswith("inline;")


def test_a_put_replaces_the_object_under_the_same_key(backend):
    backend.put(KEY, io.BytesIO(b"first"), "text/plain")
    backend.put(KEY, io.BytesIO(b"second"), "text/plain")
    assert read(backend, KEY) == b"second"


def test_a_large_object_goes_through_whole(backend):
    # Over the 8 MB multipart threshold: S3 uploads it in parts.
    data = hashlib.sha256(b"seed").digest() * (9 * 1024 * 1024 // 32 + 7)
    backend.put(KEY, io.BytesIO(data), "application/pdf")
    assert hashlib.sha256(read(backend, KEY)).digest() == hashlib.sha256(data).digest()


def test_opening_a_missing_key_says_so(backend):
    with pytest.raises(ObjectMissing):
        backend.open(KEY)
    assert not backend.exists(KEY)


def test_delete_removes_and_deleting_again_is_harmless(backend):
    backend.put(KEY, io.BytesIO(b"x"), "text/plain")
    backend.delete(KEY)
    assert not backend.exists(KEY)
    backend.delete(KEY)
    with pytest.raises(ObjectMissing):
        backend.open(KEY)


def test_delete_prefix_removes_one_clients_objects_only(backend):
    mine = [client_key(1, 1, "tickets", 5, "a"), client_key(1, 1, "tickets", 6, "b")]
    neighbour = client_key(1, 10, "tickets", 5, "a")  # "client/1" must not reach "client/10"
    other_reseller = client_key(2, 1, "tickets", 5, "a")
    for key in (*mine, neighbour, other_reseller):
        backend.put(key, io.BytesIO(key.encode()), "text/plain")

    assert backend.delete_prefix(client_prefix(1, 1)) == 2
    assert [backend.exists(k) for k in mine] == [False, False]
    assert read(backend, neighbour) == neighbour.encode()
    assert read(backend, other_reseller) == other_reseller.encode()
    assert backend.delete_prefix(client_prefix(1, 1)) == 0  # a second purge is harmless


BAD_KEYS = [
    "",
    "../escape",
    "reseller/1/../../etc/passwd",
    "/etc/passwd",
    "reseller\\1\\client",
    "C:\\Windows\\x",
    "reseller/1/\x00name",
    "reseller/1/na\nme",
    "reseller//1",
    "reseller/./1",
    ".hidden",
    "reseller/1/.tmp-abc.part",
    "reseller/1/",
    "reseller/1/relatório",
    " reseller",
    "x" * 600,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_key_that_could_escape_or_was_never_app_made_is_refused(backend, key):
    for call in (
        lambda: backend.put(key, io.BytesIO(b"x"), "text/plain"),
        lambda: backend.open(key),
        lambda: backend.delete(key),
        lambda: backend.exists(key),
    ):
        with pytest.raises(InvalidKey):
            call()


@pytest.mark.parametrize("prefix", ["", "/", "../", "reseller/1", "reseller/../", "reseller//"])
def test_delete_prefix_wants_whole_well_formed_segments(backend, prefix):
    backend.put(KEY, io.BytesIO(b"x"), "text/plain")
    with pytest.raises(InvalidKey):
        backend.delete_prefix(prefix)
    assert backend.exists(KEY)


def test_a_stream_failing_midway_leaves_no_object(backend):
    with pytest.raises(OSError, match="connection reset"):
        backend.put(KEY, io.BufferedReader(Exploding(300 * 1024)), "application/pdf")
    assert not backend.exists(KEY)


def test_a_failed_replacement_keeps_the_previous_object(backend):
    backend.put(KEY, io.BytesIO(b"the good version"), "text/plain")
    with pytest.raises(OSError):
        backend.put(KEY, io.BufferedReader(Exploding(100 * 1024)), "text/plain")
    assert read(backend, KEY) == b"the good version"


def test_local_crash_midway_leaves_no_temporary_file(tmp_path):
    backend = LocalStorage(tmp_path / "storage")
    with pytest.raises(OSError):
        backend.put(KEY, io.BufferedReader(Exploding(300 * 1024)), "application/pdf")
    assert [p for p in (tmp_path / "storage").rglob("*") if p.is_file()] == []


def test_local_refuses_a_key_leading_through_a_planted_symlink(tmp_path):
    root, outside = tmp_path / "storage", tmp_path / "outside"
    (root / "reseller" / "1").mkdir(parents=True)
    outside.mkdir()
    (root / "reseller" / "1" / "client").symlink_to(outside)
    backend = LocalStorage(root)
    with pytest.raises(InvalidKey):
        backend.put("reseller/1/client/2/x", io.BytesIO(b"x"), "text/plain")
    assert list(outside.iterdir()) == []


def test_s3_multipart_upload_failing_midway_leaves_no_parts(s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    backend = build(s3_settings(s3_endpoint, bucket))
    with pytest.raises(OSError):
        backend.put(KEY, io.BufferedReader(Exploding(10 * 1024 * 1024)), "application/zip")
    assert not backend.exists(KEY)
    assert raw_client(s3_endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3_stores_the_content_type_and_asks_for_encryption_at_rest(s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    backend = build(s3_settings(s3_endpoint, bucket, S3_SERVER_SIDE_ENCRYPTION="AES256"))
    backend.put(KEY, io.BytesIO(b"%PDF-1.4"), "application/pdf")
    head = raw_client(s3_endpoint).head_object(Bucket=bucket, Key=KEY)
    assert head["ContentType"] == "application/pdf"
    assert head["ServerSideEncryption"] == "AES256"


def test_s3_presigned_link_is_short_lived_and_names_the_download(s3_endpoint):
    backend = build(s3_settings(s3_endpoint, new_bucket(s3_endpoint)))
    backend.put(KEY, io.BytesIO(b"report"), "text/plain")
    url = backend.presigned_url(
        KEY, content_type="text/plain", disposition='attachment; filename="r.txt"', seconds=3600
    )
    assert "Expires=300" in url or "X-Amz-Expires=300" in url  # capped at five minutes
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == b"report"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="r.txt"'


def test_the_app_gets_the_configured_backend(app):
    with app.app_context():
        chosen = get_storage()
    assert isinstance(chosen, LocalStorage)
    assert str(chosen.root) == str(storage_module.Path(app.config["STORAGE_DIR"]).resolve())


def test_s3_settings_build_an_s3_backend_without_connecting():
    backend = build(s3_settings("http://127.0.0.1:9", "bucket"))
    assert isinstance(backend, S3Storage)
    assert backend.bucket == "bucket" and backend.addressing_style == "path"


def test_keys_are_built_under_the_clients_prefix():
    assert client_key(3, 4, "tickets", 9, "f00d") == "reseller/3/client/4/tickets/9/f00d"
    assert client_prefix(3, 4) == "reseller/3/client/4/"
    with pytest.raises(InvalidKey):
        client_key(3, 4, "..", "x")


def test_s3_without_a_bucket_refuses_to_start(monkeypatch):
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        load_settings({"APP_ENV": "testing"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("STORAGE_BACKEND", "ftp"), ("S3_SERVER_SIDE_ENCRYPTION", "rot13"), ("S3_ADDRESSING_STYLE", "x")],
)
def test_unknown_storage_settings_refuse_to_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings({"APP_ENV": "testing"})


def test_the_testing_profile_never_points_at_a_real_bucket(monkeypatch):
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "production-attachments")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "real-secret")
    settings = load_settings({"APP_ENV": "testing"})
    assert settings.STORAGE_BACKEND == "local"
    assert settings.S3_BUCKET is None and settings.S3_SECRET_ACCESS_KEY is None


def test_the_purge_of_a_deleted_client_removes_its_stored_files_and_only_those(
    app, tenants, browser, mailbox, run_jobs
):
    client_id, reseller_id = tenants.a.client.id, tenants.a.id
    mine = [client_key(reseller_id, client_id, "tickets", 1, "f1"), client_key(reseller_id, client_id, "x")]
    others = [
        client_key(reseller_id, client_id + 100_000, "tickets", 1, "f1"),
        client_key(tenants.b.id, client_id, "x"),
    ]
    with app.app_context():
        store = get_storage()
        for key in (*mine, *others):
            store.put(key, io.BytesIO(b"file"), "text/plain")
    try:
        deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
        with app.app_context():
            assert purge.purge_client(deletion_id).finished
            assert [store.exists(k) for k in mine] == [False, False]
            assert [store.exists(k) for k in others] == [True, True]
            assert db.session.get(ClientDeletion, deletion_id).purged_rows["stored_files"] == 2
            # A second run (a worker that died after the files went) finds nothing to do.
            assert purge.purge_client(deletion_id) is None
    finally:
        with app.app_context():
            for key in others:
                store.delete(key)
