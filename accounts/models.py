from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from knox.models import AbstractAuthToken

from shop.core.models import BaseModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractUser):  # type: ignore[django-manager-missing]  # knox FK
    """A person: shopper, seller member or staff. Signs in with an email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner proved they read this address."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email.split("@")[0]


class Address(BaseModel):
    """A postal address, optionally geocoded (used to pick the nearest warehouse)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="addresses", null=True, blank=True
    )
    full_name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True, help_text="State, province or county.")
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 (django-countries).")
    phone = models.CharField(max_length=40, blank=True, help_text="E.164, e.g. +4930123456.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    geocoded_by = models.CharField(
        max_length=40, blank=True, help_text="What found the coordinates (shop.core.geocoding)."
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="accounts_address_one_default_per_user",
            )
        ]

    @property
    def country_name(self) -> str:
        from shop.core.countries import country_name

        return country_name(self.country)

    def __str__(self) -> str:
        place = " ".join(part for part in (self.postal_code, self.city) if part)
        return ", ".join(part for part in (self.full_name, self.line1, place, self.country) if part)


class ApiToken(AbstractAuthToken):
    """An API token of one device (django-rest-knox): only a digest of it is stored, it
    expires after API_TOKEN_TTL_SECONDS, and its owner can list and revoke it
    (`accounts.services.api_token_*`). `shop.core.authentication` reads it per request."""

    name = models.CharField(
        max_length=100, blank=True, help_text="The device, as the app named it."
    )

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["expiry"], name="accounts_apitoken_expiry")]

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.name or 'device'})"
