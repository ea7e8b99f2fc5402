"""Settings read from the environment: email goes through Django 6.1's MAILERS, warning-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, warnings, django
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    django.setup()
    from django.conf import DEPRECATED_EMAIL_SETTINGS, settings
    from django.core import mail
    mailer = mail.mailers["default"]
print(json.dumps({
    "mail_warnings": [
        str(w.message) for w in caught
        if any(word in str(w.message) for word in ("EMAIL", "MAILERS", "mail"))
    ],
    "backend": type(mailer).__module__ + "." + type(mailer).__name__,
    "host": getattr(mailer, "host", None),
    "port": getattr(mailer, "port", None),
    "username": getattr(mailer, "username", None),
    "use_tls": getattr(mailer, "use_tls", None),
    "timeout": getattr(mailer, "timeout", None),
    "deprecated": sorted(n for n in DEPRECATED_EMAIL_SETTINGS if settings.is_overridden(n)),
}))
"""


def _probe(**env: str) -> dict:
    """Load settings and build the default mailer in a fresh interpreter, recording warnings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    # A URL is only parsed here, never connected to, so the embedded server is not started.
    clean.update(DATABASE_URL="postgres://probe@127.0.0.1:1/probe", **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "shop.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_console_mailer_by_default_and_no_deprecated_email_settings():
    probe = _probe()
    assert probe["backend"] == "shop.core.mail.ConsoleLogEmailBackend"
    assert probe["deprecated"] == []
    assert probe["mail_warnings"] == []


def test_smtp_mailer_from_the_environment():
    probe = _probe(
        EMAIL_HOST="smtp.example.test",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS="0",
    )
    assert probe == {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": "smtp.example.test",
        "port": 2525,
        "username": "mailer",
        "use_tls": False,
        "timeout": 10,
        "deprecated": [],
        "mail_warnings": [],
    }


SITE_URL_PROBE = """
import django
django.setup()
from django.conf import settings
print(settings.SITE_URL)
"""


def _site_url(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "PORT"}}
    clean.update(DATABASE_URL="postgres://probe@127.0.0.1:1/probe", **env)
    result = subprocess.run(
        [sys.executable, "-c", SITE_URL_PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "shop.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_site_url_follows_where_make_run_serves():
    """Emails link to the port `make run` serves on unless SITE_URL says otherwise."""
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8031") == "http://127.0.0.1:8031"
    assert _site_url(HOST="0.0.0.0", PORT="9000") == "http://127.0.0.1:9000"  # noqa: S104
    assert _site_url(HOST="shop.test", PORT="80") == "http://shop.test:80"
    assert _site_url(SITE_URL="https://shop.example.com/", PORT="8031") == (
        "https://shop.example.com"
    )


def test_console_mailer_logs_each_email_at_info(caplog):
    """Emails of the embedded default are INFO records, not warnings in the worker's log."""
    from django.core.mail import EmailMessage

    from shop.core.mail import ConsoleLogEmailBackend

    with caplog.at_level("INFO", logger="shop.mail"):
        sent = ConsoleLogEmailBackend().send_messages(
            [EmailMessage("Your order", "Thank you.", "shop@example.com", ["a@example.com"])]
        )
    assert sent == 1
    (record,) = caplog.records
    assert record.levelname == "INFO"
    assert "Subject: Your order" in record.getMessage()
    assert "Thank you." in record.getMessage()


def test_a_multi_host_database_url_names_every_server_for_libpq():
    """Failover (docs/operations.md): one DATABASE_URL names the primary and its standby; the
    settings hand libpq both, in order, and keep the URL's options."""
    from shop.dburl import database_url_parse

    config = database_url_parse(
        "postgres://shop:secret@db1:5433,db2/shop?target_session_attrs=read-write",
        conn_max_age=60,
    )
    assert config["HOST"] == "db1,db2"
    assert config["PORT"] == "5433,5432"
    assert config["NAME"] == "shop"
    assert (config["USER"], config["PASSWORD"]) == ("shop", "secret")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write"}
    assert config["CONN_MAX_AGE"] == 60
    single = database_url_parse("postgres://shop@db1:5433/shop", conn_max_age=0)
    assert (single["HOST"], single["PORT"]) == ("db1", 5433)
