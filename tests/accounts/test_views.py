"""Sign up, sign in and sign out on the storefront."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "pale-violet-umbrella-42"


def signup_data(**overrides):
    data = {
        "email": "Ada@Example.com",
        "full_name": "Ada Lovelace",
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


def test_signup_creates_an_account_and_signs_in(client):
    response = client.post(reverse("accounts:signup"), signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert user.full_name == "Ada Lovelace"
    assert user.check_password(STRONG)
    assert client.session[SESSION_KEY] == str(user.pk)


def test_signup_follows_a_local_next_but_not_a_foreign_one(client):
    local = client.post(reverse("accounts:signup"), signup_data(next="/sellers/apply/"))
    assert local["Location"] == "/sellers/apply/"
    other = Client()
    foreign = other.post(
        reverse("accounts:signup"), signup_data(email="b@example.com", next="https://evil.test/")
    )
    assert foreign["Location"] == "/"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password2": "something-else-99"}, "The two password fields didn"),
        ({"password1": "12345678", "password2": "12345678"}, "This password is too common."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
    ],
)
def test_signup_refuses_bad_input_and_creates_nothing(client, overrides, message):
    response = client.post(reverse("accounts:signup"), signup_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_signup_refuses_an_existing_email_in_any_case(client):
    UserFactory(email="ada@example.com")
    response = client.post(reverse("accounts:signup"), signup_data(email="ADA@example.com"))
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_sign_in_with_email_in_any_case_and_sign_out_by_post(client):
    user = UserFactory(email="grace@example.com")
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200

    response = client.post(
        reverse("accounts:login"), {"username": "Grace@Example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    assert "Sign out" in client.get(reverse("catalog:home")).content.decode()

    # signing out takes a POST: a link (GET) elsewhere cannot sign the shopper out
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session
    client.post(reverse("accounts:logout"))
    assert SESSION_KEY not in client.session


def test_sign_in_with_a_wrong_password_says_so(client):
    UserFactory(email="grace@example.com")
    response = client.post(
        reverse("accounts:login"), {"username": "grace@example.com", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "Please enter a correct email address and password." in response.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("name", ["accounts:signup", "accounts:login", "accounts:logout"])
def test_post_forms_refuse_requests_without_a_csrf_token(name):
    UserFactory(email="grace@example.com")
    client = Client(enforce_csrf_checks=True)
    data = signup_data() | {"username": "grace@example.com", "password": PASSWORD}
    response = client.post(reverse(name), data)
    assert response.status_code == 403
    assert User.objects.count() == 1
    assert SESSION_KEY not in client.session


def test_signup_form_posts_with_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("accounts:signup"))
    token = page.context["csrf_token"]
    response = client.post(reverse("accounts:signup"), signup_data(csrfmiddlewaretoken=token))
    assert response.status_code == 302
    assert User.objects.filter(email="ada@example.com").exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_with_one_email_make_one_account_and_no_500():
    from django.test import Client

    from accounts.models import User
    from tests.orders.test_concurrency import race

    def sign_up(i: int) -> str:
        response = Client().post(
            reverse("accounts:signup"),
            {
                "email": "twin@example.com",
                "full_name": f"Twin {i}",
                "password1": "a-long-passphrase",
                "password2": "a-long-passphrase",
            },
        )
        return str(response.status_code)

    outcomes = race(6, sign_up)

    assert User.objects.filter(email="twin@example.com").count() == 1
    assert outcomes["302"] == 1 and outcomes["200"] == 5
