import os

import pytest

if not os.environ.get("DATABASE_URL"):
    # Tests run against the embedded PostgreSQL when no DATABASE_URL is given (never SQLite).
    pass


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
