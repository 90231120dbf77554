"""Real database servers for tests: skip (or fail on CI) with a how-to when one is not running."""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

_HOW_TO = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "MariaDB": "service mariadb start",
}


def _unreachable(name: str, host: str, port: int) -> None:
    message = f"{name} not reachable at {host}:{port}; start it with: {_HOW_TO[name]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    """The URL of the test PostgreSQL (trust auth, database ``test``), or skip/fail."""
    if not _listening("127.0.0.1", 5432):
        _unreachable("PostgreSQL", "127.0.0.1", 5432)
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ).close()
    except Exception:
        _unreachable("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def require_mariadb() -> str:
    """The URL of the test MariaDB/MySQL (root, empty password, database ``test``), or skip/fail."""
    if not _listening("127.0.0.1", 3306):
        _unreachable("MariaDB", "127.0.0.1", 3306)
    try:
        import pymysql

        pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", database="test"
        ).close()
    except Exception:
        _unreachable("MariaDB", "127.0.0.1", 3306)
    return MARIADB_URL
