"""Where uploaded files live: one interface, a local folder or an S3-compatible bucket.

The application names every object itself (``reseller/<id>/client/<id>/...``, built by
:func:`client_key`), never after a user's file name, and reads it back only through its
own authorised views: :meth:`Storage.open` gives a file-like object that the view
streams (``core.uploads.attachment_response``). Nothing is ever served from a public
bucket URL; :meth:`S3Storage.presigned_url` exists for a caller that chooses it.

A put is all or nothing: the local folder writes a temporary file beside the target
and renames it over the key (``os.replace``), S3 shows an object only once its upload
(or every part of a multipart upload) completed, so a crash mid-stream never leaves
half a file under a key. Content types and sizes live in the database row that names
the key; the local folder keeps only the bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from contextlib import suppress
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from flask import current_app

CHUNK = 1024 * 1024
# A key is app-made: short ASCII segments, each starting with a letter or digit, so
# "..", ".", hidden names, absolute paths, backslashes, NUL and control characters
# cannot be spelt, and the local backend's temporary files (".tmp-...") never match one.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_KEY_LENGTH = 512
MAX_PRESIGNED_SECONDS = 300


class StorageError(RuntimeError):
    """The storage refused or failed an operation."""


class InvalidKey(StorageError, ValueError):
    """A key (or prefix) that the application should never have built."""


class ObjectMissing(StorageError, LookupError):
    """No object is stored under this key."""


def check_key(key: str) -> str:
    """``key`` when it is a well-formed object key; :class:`InvalidKey` otherwise."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"invalid storage key {key!r}")
    if not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidKey(f"invalid storage key {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix is whole segments ending in ``/``: ``client/1/`` never reaches ``client/10``,
    and an empty prefix (everything) cannot be asked for."""
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise InvalidKey(f"invalid storage prefix {prefix!r}")
    check_key(prefix[:-1])
    return prefix


def client_prefix(reseller_id: int, client_id: int) -> str:
    """Every object of one client starts with this (the purge deletes it whole)."""
    return f"reseller/{int(reseller_id)}/client/{int(client_id)}/"


def client_key(reseller_id: int, client_id: int, *parts: str | int) -> str:
    """A key under the client's prefix, e.g. ``client_key(1, 2, "tickets", 7, uuid_hex)``."""
    return check_key(client_prefix(reseller_id, client_id) + "/".join(str(p) for p in parts))


class Storage(ABC):
    """The operations every backend offers; keys are checked here, once for all."""

    def put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        """Store everything ``stream`` yields under ``key`` (replacing what was there)."""
        self._put(check_key(key), stream, content_type)

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the object (close it); :class:`ObjectMissing` if none."""
        return self._open(check_key(key))

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""
        self._delete(check_key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; how many there were."""
        return self._delete_prefix(check_prefix(prefix))

    def exists(self, key: str) -> bool:
        return self._exists(check_key(key))

    @abstractmethod
    def _put(self, key: str, stream: BinaryIO, content_type: str) -> None: ...

    @abstractmethod
    def _open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _delete_prefix(self, prefix: str) -> int: ...

    @abstractmethod
    def _exists(self, key: str) -> bool: ...


class LocalStorage(Storage):
    """Objects as files under one folder (the demo, development and tests)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        # The key's shape already rules traversal out; a symlink planted inside the
        # folder would still be caught here.
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(f"storage key {key!r} leaves the storage folder")
        return path

    def _put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)

    def _open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing(key) from exc

    def _delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def _delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        # Removed meanwhile (a purge running twice): the goal is reached either way.
        with suppress(FileNotFoundError):
            shutil.rmtree(folder)
        return count

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _sync_folder(folder: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class S3Storage(Storage):
    """Objects in one bucket of an S3-compatible service, through boto3."""

    # Parts of 8 MB, two at a time: a 25 MB upload holds at most ~16 MB in memory.
    transfer = TransferConfig(
        multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=2
    )

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        server_side_encryption: str | None = None,
        addressing_style: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._credentials = (access_key_id, secret_access_key)
        self.server_side_encryption = server_side_encryption
        self.addressing_style = addressing_style or ("path" if endpoint_url else "auto")

    @cached_property
    def client(self):
        # Built on first use (not in create_app): boto3 loads its service model then.
        # Blank keys leave boto3 its own chain (instance role, AWS_* variables...).
        access_key_id, secret_access_key = self._credentials
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=BotoConfig(
                signature_version="s3v4",
                s3={"addressing_style": self.addressing_style},
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def _put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        extra = {"ContentType": content_type}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        # upload_fileobj goes multipart above the threshold and aborts the upload
        # (no object, no orphaned parts) when the stream raises.
        self.client.upload_fileobj(stream, self.bucket, key, ExtraArgs=extra, Config=self.transfer)

    def _open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if _status(exc) == 404:
                raise ObjectMissing(key) from exc
            raise

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _delete_prefix(self, prefix: str) -> int:
        count = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if not keys:
                continue
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(f"could not delete {first.get('Key')!r}: {first.get('Code')}")
            count += len(keys)
        return count

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise
        return True

    def presigned_url(self, key: str, *, content_type: str, disposition: str, seconds: int = 60) -> str:
        """A link to the object valid ``seconds`` (at most 5 minutes), for a caller that
        chooses to hand one out instead of streaming; never the default."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": check_key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=max(1, min(int(seconds), MAX_PRESIGNED_SECONDS)),
        )


def _status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def build(config) -> Storage:
    """The backend the settings (``STORAGE_BACKEND``...) describe."""
    if config.get("STORAGE_BACKEND", "local") == "s3":
        return S3Storage(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            server_side_encryption=config.get("S3_SERVER_SIDE_ENCRYPTION"),
            addressing_style=config.get("S3_ADDRESSING_STYLE"),
        )
    return LocalStorage(config["STORAGE_DIR"])


def init_app(app) -> None:
    """Bind the configured backend; tests may replace ``app.extensions["storage"]``."""
    app.extensions["storage"] = build(app.config)


def get_storage() -> Storage:
    """The application's storage."""
    return current_app.extensions["storage"]
