"""Account emails, rendered from templates/emails/account_*.txt. One function per email; each
is sent by a Celery task (accounts.tasks) enqueued after commit."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    send_mail(
        subject=subject,
        message=render_to_string(
            f"emails/{template}.txt", {**context, "site_url": settings.SITE_URL}
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[to],
    )


def _active(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def password_reset_email_send(*, user_id: int) -> None:
    from accounts.services import password_reset_token

    user = _active(user_id)
    if user is None:
        return
    uid, token = password_reset_token(user=user)
    _send(
        to=user.email,
        subject="Reset your Marketplace password",
        template="account_password_reset",
        context={
            "user": user,
            "url": settings.SITE_URL
            + reverse("accounts:password_reset_confirm", args=[uid, token]),
            "uid": uid,
            "token": token,
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )


def email_verification_send(*, user_id: int) -> None:
    from accounts.services import email_verification_token

    user = _active(user_id)
    if user is None or user.email_verified_at is not None:
        return
    token = email_verification_token(user=user)
    _send(
        to=user.email,
        subject="Confirm your email address",
        template="account_email_verify",
        context={
            "user": user,
            "url": settings.SITE_URL + reverse("accounts:email_verify", args=[token]),
            "token": token,
        },
    )


def email_change_send(*, user_id: int, new_email: str) -> None:
    from accounts.services import email_change_token

    user = _active(user_id)
    if user is None:
        return
    token = email_change_token(user=user, new_email=new_email)
    _send(
        to=new_email,
        subject="Confirm your new email address",
        template="account_email_change",
        context={
            "user": user,
            "new_email": new_email,
            "url": settings.SITE_URL + reverse("accounts:email_change_confirm", args=[token]),
            "token": token,
        },
    )


def email_changed_notice_send(*, user_id: int, old_email: str) -> None:
    user = _active(user_id)
    if user is None:
        return
    _send(
        to=old_email,
        subject="Your Marketplace email address was changed",
        template="account_email_changed",
        context={"user": user, "old_email": old_email},
    )
