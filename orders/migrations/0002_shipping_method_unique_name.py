"""One shipping method name per seller, ignoring case.

Rows that already share a name (left by the old read-then-write check) are renamed rather than
failing the deploy: within a seller, the oldest row (lowest id) keeps its name and each later
one becomes "<name> (2)", "<name> (3)", ... (the first number not already taken). Renaming is
deterministic, touches only the duplicates, and the seller sees both methods in the portal and
can rename them; failing instead would block every deploy on hand-editing sellers' data.
"""

import django.db.models.functions.text
from django.db import connection, migrations, models
from django.db.models.functions import Lower

NAME_MAX_LENGTH = 100


def _lower(name: str) -> str:
    """PostgreSQL's LOWER(), which the constraint compares: Python's str.lower() differs for a
    few characters ('İ' lowers to 'i' there, to 'i' + a combining dot in Python)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s)", [name])
        return cursor.fetchone()[0]


def rename_duplicates(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    rows = list(
        ShippingMethod.objects.order_by("seller_id", "pk")
        .annotate(lowered=Lower("name"))
        .only("pk", "seller_id", "name")
    )
    in_use: dict[int, set[str]] = {}  # every name a seller's rows carry, so none is reused
    for method in rows:
        in_use.setdefault(method.seller_id, set()).add(method.lowered)
    kept: set[tuple[int, str]] = set()
    for method in rows:
        key = (method.seller_id, method.lowered)
        if key not in kept:
            kept.add(key)
            continue
        names = in_use[method.seller_id]
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = method.name[: NAME_MAX_LENGTH - len(suffix)] + suffix
            if _lower(candidate) not in names:
                break
            number += 1
        names.add(_lower(candidate))
        kept.add((method.seller_id, _lower(candidate)))
        ShippingMethod.objects.filter(pk=method.pk).update(name=candidate)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("sellers", "0003_catalog_import_job"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="shippingmethod",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("seller"),
                name="orders_shipping_unique_name",
                violation_error_message="You already have a shipping method with this name.",
            ),
        ),
    ]
