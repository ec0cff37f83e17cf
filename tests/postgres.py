"""A PostgreSQL database for tests: one fresh schema per test, on the server CI starts.

``NHSA_TEST_POSTGRES_URL`` names the server (default: the role and database ``.ci/run``
creates on loopback). When no server answers, PostgreSQL tests skip — unless
``NHSA_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which turns the skip into a failure, so CI
can never pass with the PostgreSQL half of the suite silently missing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

DEFAULT_URL = "postgresql://nhsa:nhsa@127.0.0.1:5432/nhsa_test"
BACKENDS = ["sqlite", "postgresql"]
"""Parameter values of tests that run against both databases."""


def server_url() -> str:
    """The server the tests use."""
    return os.environ.get("NHSA_TEST_POSTGRES_URL", DEFAULT_URL)


def require_server() -> str:
    """The server's URL; skips the test (or fails it under ``.ci/run``) when none answers."""
    url = server_url()
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as error:
        message = f"no PostgreSQL at {url}: {' '.join(str(error).split())}"
        if os.environ.get("NHSA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (NHSA_REQUIRE_POSTGRES=1: .ci/run must start it)")
        pytest.skip(message)
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` whose sessions use ``schema`` (libpq's ``options`` parameter)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose sessions see only a new, empty schema (dropped afterwards)."""
    url = require_server()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
