from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _add(client, email: str):
    return client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": email,
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )


def test_staff_add_user_by_email_stored_lower_case_once(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert _add(client, "New.Person@Example.com").status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a-long-unusual-passphrase")

    response = _add(client, "NEW.person@example.com")
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert User.objects.filter(email__iexact="new.person@example.com").count() == 1
