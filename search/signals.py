"""Mark products stale for search when what they are found by changes.

Receivers only flag rows and schedule a refresh after commit (`search_index_mark_dirty`);
bulk loads that bypass the ORM (seed_demo's COPY) call `search_index_rebuild` instead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import (
    Category,
    Product,
    ProductVariant,
    VariantAttributeValue,
    VariantSalePrice,
)
from search.services import search_index_mark_dirty, search_visible_recheck
from sellers.models import Seller

SEARCH_FIELDS = {"search_vector", "search_price_min", "search_dirty"}


@receiver(post_save, sender=Product)
def _product_saved(sender, instance: Product, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= SEARCH_FIELDS:
        return
    search_index_mark_dirty(product_ids=[instance.pk])


@receiver(post_save, sender=ProductVariant)
@receiver(post_delete, sender=ProductVariant)
def _variant_changed(sender, instance: ProductVariant, signal, **kwargs) -> None:
    search_index_mark_dirty(product_ids=[instance.product_id])
    if signal is post_delete or not instance.is_active:
        search_visible_recheck(product_id=instance.product_id)


@receiver(post_save, sender=VariantSalePrice)
@receiver(post_delete, sender=VariantSalePrice)
@receiver(post_save, sender=VariantAttributeValue)
@receiver(post_delete, sender=VariantAttributeValue)
def _variant_part_changed(sender, instance, **kwargs) -> None:
    search_index_mark_dirty(condition=Q(variants__pk=instance.variant_id))


@receiver(post_save, sender=Category)
def _category_saved(sender, instance: Category, created: bool, **kwargs) -> None:
    if not created:
        search_index_mark_dirty(condition=Q(category__path__startswith=instance.path))


@receiver(post_save, sender=Seller)
def _seller_saved(sender, instance: Seller, **kwargs) -> None:
    # PostgreSQL search hides a suspended seller's products through the live status filter;
    # OpenSearch documents carry `visible`, so they need a refresh.
    if settings.OPENSEARCH_URL:
        search_index_mark_dirty(condition=Q(seller_id=instance.pk))


def _stock_saved(sender, instance, **kwargs) -> None:
    """OpenSearch documents carry `in_stock`; flag after commit so the inventory transaction,
    which holds stock row locks, never also waits on product rows."""
    variant_id = instance.variant_id
    transaction.on_commit(lambda: search_index_mark_dirty(condition=Q(variants__pk=variant_id)))


def stock_signal_connect() -> None:
    if not settings.OPENSEARCH_URL:
        return
    from inventory.models import Stock

    post_save.connect(_stock_saved, sender=Stock, dispatch_uid="search_stock_saved")
