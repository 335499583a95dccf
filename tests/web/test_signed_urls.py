"""Signed URLs through a real server in each framework: 200, 206, 304 and HEAD before expiry;
403 after it, unsigned, or when any part of the path, query or signature changes; key
rotation; caching no longer than the signature; Django's ``GridFSStorage.url()`` and the
``gridfield url`` command."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient

import gridfield.sync
from gridfield.core.files_document import FileInfo
from gridfield.core.http import FileRef, UrlSigning

from ..cli.conftest import GRIDFIELD, clean_env
from ..conftest import fresh_db_name
from . import django_urls, signed_apps
from .servers import run_aiohttp, run_uvicorn, run_waitress
from .signed_apps import NEW_SECRET, OLD_SECRET, TARGETS, by_name

ODD_NAME = "dir/100%41 a+b ü.txt"

NEW_ONLY = UrlSigning({"new": NEW_SECRET})
OLD_ONLY = UrlSigning({"old": OLD_SECRET})
RETIRED = UrlSigning({"gone": b"g" * 32})


@dataclass(frozen=True)
class Site:
    """The signed servers and the files they serve."""

    urls: dict[str, str]
    db: Any
    clip: FileInfo
    clip_data: bytes
    first: FileInfo  # notes.txt, revision 0
    newest: FileInfo  # notes.txt, revision 1
    odd: FileInfo  # ODD_NAME: "%41", a space, "+" and non-ASCII, in a folder
    storage: Any


@pytest.fixture(scope="module")
def site(mongo_uri: str) -> Iterator[Site]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = fresh_db_name()
    store = gridfield.sync.FileStore(client[name])
    try:
        data = os.urandom(50_000)
        clip = store.put(data, filename="clip.bin", content_type="video/webm", chunk_size=8192)
        first = store.put(b"first revision\n", filename="notes.txt", content_type="text/plain")
        newest = store.put(b"second revision\n", filename="notes.txt", content_type="text/plain")
        odd = store.put(b"an odd name\n", filename=ODD_NAME, content_type="text/plain")
        with ExitStack() as stack:
            clients = [AsyncMongoClient(mongo_uri) for _ in range(2)]
            asgi = stack.enter_context(
                run_uvicorn(signed_apps.starlette_app(clients[0], name), clients[:1])
            )
            aio = stack.enter_context(
                run_aiohttp(signed_apps.aiohttp_app(clients[1], name), clients[1:])
            )
            flask = stack.enter_context(run_waitress(signed_apps.flask_app(mongo_uri, name)))
            django_app, storage = signed_apps.django_app(mongo_uri, name)
            django = stack.enter_context(run_waitress(django_app))
            urls = {}
            for target in TARGETS:
                kind = target.split("-")[0]
                base = {"starlette": asgi, "asgi": asgi, "aiohttp": aio}.get(kind)
                base = base or {"flask": flask, "wsgi": flask, "django": django}[kind]
                urls[target] = base
            try:
                yield Site(urls, client[name], clip, data, first, newest, odd, storage)
            finally:
                django_urls.signed.clear()
                django_urls.publish()
    finally:
        client.drop_database(name)
        client.close()


def _ref(target: str, info: FileInfo, revision: int | None = None) -> tuple[str, FileRef]:
    """The path of ``info`` at ``target`` and the file reference a signature names."""
    prefix = TARGETS[target]
    if by_name(target):
        # Percent-encoded as a URL carries it; the signature covers the decoded name.
        path = prefix + quote(str(info.filename), safe="/")
        return path, FileRef(filename=info.filename, revision=revision)
    return prefix + str(info.file_id), FileRef(file_id=info.file_id)


def signed(
    site: Site,
    target: str,
    info: FileInfo,
    *,
    signing: UrlSigning = NEW_ONLY,
    life: timedelta = timedelta(hours=1),
    **options: Any,
) -> str:
    path, ref = _ref(target, info, options.pop("revision", None))
    return site.urls[target] + signing.sign_for(path, ref, life, **options)


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_signed_url_is_answered_as_any_other(site: Site, target: str) -> None:
    info = site.clip if not by_name(target) else site.newest
    data = site.clip_data if info is site.clip else b"second revision\n"
    url = signed(site, target, info)
    with httpx.Client() as http:
        whole = http.get(url)
        assert (whole.status_code, whole.content) == (200, data)
        part = http.get(url, headers={"Range": "bytes=3-9"})
        assert (part.status_code, part.content) == (206, data[3:10])
        same = http.get(url, headers={"If-None-Match": whole.headers["etag"]})
        assert (same.status_code, same.content) == (304, b"")
        head = http.head(url)
        assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))
        old_key = signed(site, target, info, signing=OLD_ONLY)
        assert http.get(old_key).status_code == 200  # "old" still verifies
        download = http.get(signed(site, target, info, download=True))
        assert download.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize("target", list(TARGETS))
def test_unsigned_tampered_expired_or_retired_urls_are_403(site: Site, target: str) -> None:
    info = site.clip if not by_name(target) else site.newest
    url = signed(site, target, info)
    base, query = url.split("?")
    head, sig = query.rsplit("&sig=", 1)
    stamp = int(head.split("expires=")[1].split("&")[0])
    other = ObjectId() if not by_name(target) else "notes.txv"
    refused = {
        "unsigned": base,
        "another file": base.rsplit("/", 1)[0] + f"/{other}?{query}",
        "later expiry": f"{base}?{head.replace(str(stamp), str(stamp + 1))}&sig={sig}",
        "another signature": f"{base}?{head}&sig={sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",
        "a parameter added": f"{base}?{head}&download=1&sig={sig}",
        "no signature": f"{base}?{head}",
        "expired": signed(
            site,
            target,
            info,
            life=timedelta(seconds=5),
            now=datetime.now(timezone.utc) - timedelta(seconds=7),
        ),
        "retired key": signed(site, target, info, signing=RETIRED),
        "HEAD only": signed(site, target, info, methods=["HEAD"]),
    }
    with httpx.Client() as http:
        for what, bad in refused.items():
            answer = http.get(bad)
            assert answer.status_code == 403, (what, answer.status_code, answer.text)
            assert answer.headers["cache-control"] == "no-store"
            assert str(info.length) != answer.headers["content-length"]
        assert http.head(signed(site, target, info, methods=["HEAD"])).status_code == 200
        assert http.head(base).status_code == 403


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_signed_answer_is_cached_no_longer_than_its_signature(site: Site, target: str) -> None:
    info = site.clip if not by_name(target) else site.newest
    url = signed(site, target, info, life=timedelta(seconds=120))
    expiry = datetime.fromtimestamp(int(url.split("expires=")[1].split("&")[0]), timezone.utc)
    with httpx.Client() as http:
        for answer in (http.get(url), http.get(url, headers={"If-None-Match": "*"})):
            control = answer.headers["cache-control"]
            max_age = int(control.split("max-age=")[1].split(",")[0])
            assert 0 <= max_age <= 120
            assert parsedate_to_datetime(answer.headers["expires"]) <= expiry


@pytest.mark.parametrize("target", [t for t in TARGETS if by_name(t)])
def test_a_url_may_name_a_revision(site: Site, target: str) -> None:
    with httpx.Client() as http:
        first = http.get(signed(site, target, site.first, revision=0))
        newest = http.get(signed(site, target, site.first))
    assert first.content == b"first revision\n"
    assert newest.content == b"second revision\n"


@pytest.mark.parametrize("target", [t for t in TARGETS if by_name(t)])
def test_an_odd_name_is_signed_as_the_server_decodes_it(site: Site, target: str) -> None:
    url = signed(site, target, site.odd)
    assert "%2541%20a+b%20%C3%BC.txt" in url
    with httpx.Client() as http:
        assert http.get(url).content == b"an odd name\n"
        other = url.replace("%2541", "%2542")
        assert http.get(other).status_code == 403


def test_a_url_ends_with_a_file_that_expires_sooner(site: Site) -> None:
    store = gridfield.sync.FileStore(site.db)
    info = store.put(b"short-lived", filename="soon.txt", expire_after=timedelta(minutes=2))
    assert info.expire_at is not None
    url = signed(site, "starlette", info, life=timedelta(days=1), file_expires=info.expire_at)
    assert f"expires={int(info.expire_at.timestamp())}&" in url
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert parsedate_to_datetime(answer.headers["expires"]) <= info.expire_at


def test_django_storage_url_is_signed_and_answered(site: Site) -> None:
    storage = site.storage
    url = site.urls["django"] + storage.url("notes.txt")
    assert "sig=" in url and "kid=new" in url
    expiry = int(url.split("expires=")[1].split("&")[0])
    assert 0 < expiry - datetime.now(timezone.utc).timestamp() <= 600
    with httpx.Client() as http:
        assert http.get(url).content == b"second revision\n"
        assert http.get(url.split("?")[0]).status_code == 403
        assert http.get(url.replace("notes.txt", "clip.bin")).status_code == 403
        odd = site.urls["django"] + storage.url(ODD_NAME)
        assert http.get(odd).content == b"an odd name\n"


def test_the_url_command_prints_a_url_the_server_answers(site: Site, mongo_uri: str) -> None:
    env = clean_env(GRIDFIELD_SIGNING_KEY="new:" + NEW_SECRET.decode())
    base = site.urls["wsgi-byname"] + "/byname"

    def url(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(GRIDFIELD), "--uri", mongo_uri, "--db", site.db.name, "url", *args],
            capture_output=True,
            text=True,
            env={**env, **extra},
            timeout=120,
            check=False,
        )

    made = url("notes.txt", "--expires", "1h", "--base-url", base)
    assert made.returncode == 0, made.stderr
    printed = made.stdout.strip()
    expiry = int(printed.split("expires=")[1].split("&")[0])
    assert 3500 < expiry - datetime.now(timezone.utc).timestamp() <= 3600
    assert httpx.get(printed).content == b"second revision\n"
    # A configured base URL, a revision and the id form.
    first = url("notes.txt", "--revision", "0", GRIDFIELD_BASE_URL=base)
    assert httpx.get(first.stdout.strip()).content == b"first revision\n"
    by_id = url(str(site.clip.file_id), "--by-id", "--base-url", site.urls["wsgi-app"] + "/bucket")
    assert httpx.get(by_id.stdout.strip()).content == site.clip_data
    # Refusals: no key, a short key, no base URL, a missing file.
    for args, extra, words in (
        (["notes.txt", "--base-url", base], {"GRIDFIELD_SIGNING_KEY": ""}, "KEYID:SECRET"),
        (["notes.txt", "--base-url", base], {"GRIDFIELD_SIGNING_KEY": "k:short"}, "at least 32"),
        (["notes.txt"], {}, "--base-url"),
        (["nothing.txt", "--base-url", base], {}, "no file named"),
        (["notes.txt", "--base-url", base, "--expires", "soon"], {}, "not a duration"),
    ):
        failed = url(*args, **extra)
        assert failed.returncode != 0 and words in failed.stderr, (args, failed.stderr)
