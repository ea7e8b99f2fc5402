import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    """Takes over `catalog_review` (catalog.0011 dropped it from the catalog's state, the rows
    stay) and renames it `reviews_review`; 0002 adds what moderation needs."""

    initial = True

    dependencies = [
        ("catalog", "0011_reviews_review_moves_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Review",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "rating",
                            models.PositiveSmallIntegerField(
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(5),
                                ]
                            ),
                        ),
                        ("title", models.CharField(blank=True, max_length=200)),
                        ("body", models.TextField(blank=True)),
                        ("is_published", models.BooleanField(default=True)),
                        (
                            "product",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reviews",
                                to="catalog.product",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reviews",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "catalog_review",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("product", "user"), name="catalog_review_one_per_user"
                            ),
                            models.CheckConstraint(
                                condition=Q(rating__gte=1) & Q(rating__lte=5),
                                name="catalog_review_rating_range",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="review", table=None),
    ]
