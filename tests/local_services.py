"""This machine's PostgreSQL for the tests: where it is, whether it answers, databases of a test's own."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

PG_HOST, PG_PORT = "127.0.0.1", 5432


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def admin_sql(sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE) on the server's `postgres` DB."""
    con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres")
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


@contextmanager
def throwaway_databases(*roles: str) -> Iterator[dict[str, str]]:
    """One new database per role (e.g. "metadata", "warehouse"), dropped on exit even after a failure."""
    suffix = uuid.uuid4().hex[:8]
    names = {role: f"{role}_e2e_{suffix}" for role in roles}
    created: list[str] = []
    try:
        for name in names.values():
            admin_sql(f'create database "{name}"')
            created.append(name)
        yield names
    finally:
        for name in created:
            admin_sql(f'drop database if exists "{name}" with (force)')
