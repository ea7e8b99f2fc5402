from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from shop.core.models import BaseModel


class SellerStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    SUSPENDED = "suspended", "Suspended"
    REJECTED = "rejected", "Rejected"


class Seller(BaseModel):
    """A shop on the marketplace. Only approved sellers' products are public."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=SellerStatus.choices, default=SellerStatus.PENDING, db_index=True
    )
    status_reason = models.CharField(max_length=500, blank=True)
    logo = models.ImageField(upload_to="sellers/logos/", blank=True)
    support_email = models.EmailField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    return_window_days = models.PositiveSmallIntegerField(default=30)
    handling_time_days = models.PositiveSmallIntegerField(default=2)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.1000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Platform commission as a fraction of each line (0.1000 = 10%).",
    )
    stripe_account_id = models.CharField(max_length=64, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.status == SellerStatus.APPROVED


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    FULFILMENT = "fulfilment", "Fulfilment staff"


class SellerMember(BaseModel):
    """A user's membership of a seller, with the role that decides what they may do."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_memberships"
    )
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.MANAGER)

    class Meta:
        ordering = ["seller_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "user"], name="sellers_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.seller} ({self.role})"


class SellerInvitation(BaseModel):
    """An owner's invitation for someone without an account yet. It becomes a membership when a
    signed-in user whose email matches opens the link; the token is the only secret in it."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.MANAGER)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="sellers_invitation_open_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} -> {self.seller} ({self.role})"


class ImportStatus(models.TextChoices):
    CHECKED = "checked", "Checked, waiting to start"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed, nothing changed"


class CatalogImportJob(BaseModel):
    """One bulk CSV import of a seller's products, variants, prices and stock
    (`sellers.bulk`). A file that passed the dry run is kept here until a member starts it; the
    Celery task then checks it again and applies it in one transaction. `errors` holds
    `{"row", "column", "message"}` entries; row 1 is the header."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to="sellers/imports/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHECKED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    variants_created = models.PositiveIntegerField(default=0)
    variants_updated = models.PositiveIntegerField(default=0)
    stock_changes = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # runs so far; the run holding the latest attempt owns the job (a run that died is taken
    # over by the next attempt, whose heartbeat is `updated_at`)
    attempt = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["seller", "-created_at"], name="sellers_import_seller")]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.seller} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
