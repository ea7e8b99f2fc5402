"""Accounts: sign-up, API tokens, password change and reset, email verification and
change, account deletion, two-factor devices. Every face (storefront, API, admin) calls these.

Links sent by email carry single-use, expiring tokens: a password reset link is Django's
(`default_token_generator`: it hashes the password and last sign-in, so it dies once used,
and after PASSWORD_RESET_TIMEOUT); an email link (`_email_token`) is signed with the user's
current email, verification state and password hash, so it dies once used, when any of them
changes, and after ACCOUNT_EMAIL_LINK_MAX_AGE_SECONDS. Asking for a reset or a link answers the
same whether the email belongs to an account or not, and is rate-limited per client address
and per email.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, User
from shop.core.errors import Conflict, PermissionDenied, ValidationError
from shop.core.fields import max_length_of
from shop.core.numbers import id_parse
from shop.core.outbox import outbox_enqueue
from shop.core.ratelimit import rate_limit_hit

EMAIL_VERIFY = "accounts.email-verify"
EMAIL_CHANGE = "accounts.email-change"
BAD_LINK = "This link is invalid or has expired. Ask for a new one."


def _email_normalise(email: str, *, field: str = "email") -> str:
    email = (email or "").strip().lower()
    try:
        if len(email) > max_length_of(User, "email"):
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            "Enter a valid email address.", fields={field: ["Enter a valid email address."]}
        ) from None
    return email


def _password_check(password: str, *, user: User | None, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError(
            "Choose a stronger password.", fields={field: list(exc.messages)}
        ) from None


def _email_enqueue(task: str, **kwargs: object) -> None:
    """One place per email (accounts.emails), sent by a Celery task through the transactional
    outbox: written with the change, sent after it commits."""
    outbox_enqueue(task=f"accounts.tasks.{task}", kwargs=kwargs)


def _emails_limit(*, scope: str, client: str, email: str) -> None:
    rate_limit_hit(
        scope=scope,
        keys=[f"ip:{client}", f"email:{email}"],
        limit=settings.ACCOUNT_EMAIL_ATTEMPTS,
        window_seconds=settings.ACCOUNT_EMAIL_WINDOW_SECONDS,
    )


# --- sign-up ------------------------------------------------------------------------------------


def user_sign_up(*, email: str, password: str, full_name: str = "") -> User:
    """Create a shopper's account and send the verification email. An address that has an
    account (also when two sign-ups race) is a field error, never a 500."""
    email = _email_normalise(email)
    taken = ValidationError(
        "An account with this email already exists. Sign in instead.",
        fields={"email": ["An account with this email already exists. Sign in instead."]},
    )
    if User.objects.filter(email=email).exists():
        raise taken
    _password_check(password, user=User(email=email, full_name=full_name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name[:200]
            )
            email_verification_send(user=user)
    except IntegrityError:  # a concurrent sign-up with the same email won
        raise taken from None
    return user


# --- API tokens ---------------------------------------------------------------------------------


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for one device: (its row, the token to show once). Past API_TOKENS_PER_USER
    live tokens the oldest are revoked."""
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=user.pk)
        instance, token = ApiToken.objects.create(
            user=user, name=name.strip()[: max_length_of(ApiToken, "name")]
        )
        live = ApiToken.objects.filter(user=user).order_by("-created", "-digest")
        stale = list(live.values_list("digest", flat=True)[settings.API_TOKENS_PER_USER :])
        ApiToken.objects.filter(digest__in=stale).delete()
    return instance, token


def api_token_revoke(*, user: User, token_id: str) -> None:
    """Revoke one of the user's tokens (`token_key`, the id the token list shows); another
    user's token is not found."""
    from shop.core.errors import NotFound

    deleted, _ = ApiToken.objects.filter(user=user, token_key=str(token_id)[:25]).delete()
    if not deleted:
        raise NotFound("No such token.")


def api_tokens_revoke_all(*, user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def api_tokens_delete_expired(*, now: datetime | None = None) -> int:
    deleted, _ = ApiToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted


# --- passwords ----------------------------------------------------------------------------------


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Change a signed-in user's password. Every API token is revoked (the caller's too); the
    storefront keeps the current session (`update_session_auth_hash`), others end."""
    if not user.check_password(current_password or ""):
        raise ValidationError(
            "Your current password is not correct.",
            fields={"current_password": ["Your current password is not correct."]},
        )
    _password_check(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        api_tokens_revoke_all(user=user)
    return user


def password_reset_request(*, email: str, client: str) -> None:
    """Email a reset link if the address has an active account; say nothing either way."""
    email = _email_normalise(email)
    _emails_limit(scope="password-reset", client=client, email=email)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    _email_enqueue("password_reset_email_send_task", user_id=user.pk)


def password_reset_token(*, user: User) -> tuple[str, str]:
    """(uid, token) for a reset link."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def password_reset_user(*, uid: str, token: str) -> User:
    """The account a reset link is for, or a ValidationError (invalid, used or expired)."""
    try:
        pk = id_parse(urlsafe_base64_decode(str(uid)[:64]).decode())
    except (ValueError, UnicodeDecodeError):
        pk = None
    user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
    if user is None or not default_token_generator.check_token(user, str(token)[:100]):
        raise ValidationError(BAD_LINK, fields={"token": [BAD_LINK]})
    return user


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link dies, and every API token is revoked."""
    user = password_reset_user(uid=uid, token=token)
    _password_check(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        api_tokens_revoke_all(user=user)
    return user


# --- email verification and change --------------------------------------------------------------


def _fingerprint(user: User, purpose: str) -> str:
    state = f"{user.pk}:{user.email}:{user.email_verified_at}:{user.password}"
    return salted_hmac(purpose, state, algorithm="sha256").hexdigest()[:32]


def _email_token(*, user: User, purpose: str, email: str) -> str:
    return signing.dumps(
        {"u": user.pk, "e": email, "f": _fingerprint(user, purpose)}, salt=purpose, compress=True
    )


def _email_token_read(*, token: str, purpose: str) -> tuple[User, str]:
    try:
        data = signing.loads(
            str(token)[:1000], salt=purpose, max_age=settings.ACCOUNT_EMAIL_LINK_MAX_AGE_SECONDS
        )
        pk, email, fingerprint = id_parse(data["u"]), str(data["e"]), str(data["f"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(BAD_LINK, fields={"token": [BAD_LINK]}) from None
    user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
    if user is None or not constant_time_compare(fingerprint, _fingerprint(user, purpose)):
        raise ValidationError(BAD_LINK, fields={"token": [BAD_LINK]})
    return user, email


def email_verification_token(*, user: User) -> str:
    return _email_token(user=user, purpose=EMAIL_VERIFY, email=user.email)


def email_verification_send(*, user: User) -> None:
    """Send the link that proves the user reads their address (after commit)."""
    if user.email_verified_at is not None:
        return
    _email_enqueue("email_verification_send_task", user_id=user.pk)


def email_verification_resend(*, user: User, client: str) -> None:
    _emails_limit(scope="email-verify", client=client, email=user.email)
    email_verification_send(user=user)


def email_verify(*, token: str) -> User:
    user, email = _email_token_read(token=token, purpose=EMAIL_VERIFY)
    if email != user.email:
        raise ValidationError(BAD_LINK, fields={"token": [BAD_LINK]})
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def email_change_token(*, user: User, new_email: str) -> str:
    return _email_token(user=user, purpose=EMAIL_CHANGE, email=new_email)


def email_change_request(*, user: User, new_email: str, password: str, client: str) -> None:
    """Send a confirmation link to the new address; nothing changes until it is followed.
    Whether the new address already has an account is not told here (only the link's
    recipient learns it)."""
    if not user.check_password(password or ""):
        raise ValidationError(
            "Your password is not correct.",
            fields={"password": ["Your password is not correct."]},
        )
    new_email = _email_normalise(new_email, field="new_email")
    if new_email == user.email:
        raise ValidationError(
            "That is already your email address.",
            fields={"new_email": ["That is already your email address."]},
        )
    _emails_limit(scope="email-change", client=client, email=new_email)
    _email_enqueue("email_change_send_task", user_id=user.pk, new_email=new_email)


def email_change_confirm(*, token: str) -> User:
    """Move the account to the confirmed address (verified by following the link); the old
    address is told. An address taken meanwhile is a 409."""
    user, new_email = _email_token_read(token=token, purpose=EMAIL_CHANGE)
    old_email = user.email
    try:
        with transaction.atomic():
            user.email = new_email
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email", "email_verified_at"])
            api_tokens_revoke_all(user=user)
    except IntegrityError:
        raise Conflict("Another account uses that email address now.") from None
    _email_enqueue("email_changed_notice_send_task", user_id=user.pk, old_email=old_email)
    return user


# --- deleting an account ------------------------------------------------------------------------


def account_delete(*, user: User, password: str) -> None:
    """Close the account: personal data is erased (email, name, addresses, carts, wishlist,
    tokens, two-factor devices) and it can never sign in again. Orders stay, as the law and the
    sellers need them (they hold their own copy of the address). The last owner of a shop must
    hand it over first."""
    from sellers.models import MemberRole, SellerMember

    if not user.check_password(password or ""):
        raise ValidationError(
            "Your password is not correct.",
            fields={"password": ["Your password is not correct."]},
        )
    for membership in SellerMember.objects.filter(user=user, role=MemberRole.OWNER):
        owners = SellerMember.objects.filter(seller_id=membership.seller_id, role=MemberRole.OWNER)
        if owners.count() == 1:
            raise PermissionDenied(
                "You are the last owner of a shop. Make someone else an owner first."
            )
    with transaction.atomic():
        user.addresses.all().delete()
        user.carts.all().delete()
        user.wishlist_items.all().delete()
        SellerMember.objects.filter(user=user).delete()
        api_tokens_revoke_all(user=user)
        TOTPDevice.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@invalid"
        user.full_name = user.first_name = user.last_name = ""
        user.email_verified_at = None
        user.is_active = user.is_staff = user.is_superuser = False
        user.set_unusable_password()
        user.save()


# --- two-factor (TOTP) --------------------------------------------------------------------------


def two_factor_allowed(*, user: User) -> bool:
    """Staff and shop owners may turn two-factor on."""
    from sellers.models import MemberRole, SellerMember

    return user.is_staff or SellerMember.objects.filter(user=user, role=MemberRole.OWNER).exists()


def two_factor_device(*, user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if two-factor is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed device (its key goes into the authenticator app)."""
    if not two_factor_allowed(user=user):
        raise PermissionDenied("Two-factor sign-in is for shop owners and staff.")
    if two_factor_device(user=user) is not None:
        raise Conflict("Two-factor sign-in is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def two_factor_pending_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def two_factor_code_check(*, user: User, code: str, confirmed: bool = True) -> TOTPDevice:
    """The device the code was made by, or a ValidationError. Rate-limited per user, so six
    digits cannot be walked."""
    rate_limit_hit(
        scope="two-factor",
        keys=[f"user:{user.pk}"],
        limit=settings.TWO_FACTOR_ATTEMPTS,
        window_seconds=settings.TWO_FACTOR_WINDOW_SECONDS,
    )
    device = two_factor_device(user=user) if confirmed else two_factor_pending_device(user=user)
    code = str(code or "").strip().replace(" ", "")
    if device is None or not code.isdigit() or len(code) != 6 or not device.verify_token(code):
        raise ValidationError(
            "That code is not right. Enter the current one from your app.",
            fields={"code": ["That code is not right."]},
        )
    return device


def two_factor_setup_confirm(*, user: User, code: str) -> TOTPDevice:
    device = two_factor_code_check(user=user, code=code, confirmed=False)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def two_factor_disable(*, user: User, code: str) -> None:
    two_factor_code_check(user=user, code=code)
    TOTPDevice.objects.filter(user=user).delete()
