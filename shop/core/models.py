from django.db import models


class BaseModel(models.Model):
    """Every domain model carries its creation and last-change time."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# Registered here so the app loader sees them; the logic lives beside each model.
from shop.core.idempotency import IdempotencyRecord  # noqa: E402, F401
from shop.core.outbox import OutboxMessage  # noqa: E402, F401
