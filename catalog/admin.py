"""Staff tools for the catalog. Writes with rules behind them go through `catalog.services`
(which also tell search what changed): categories are created, changed and moved with
`category_create` / `category_update` / `category_move` (the materialized path), products
are created and changed with `product_create` / `product_update`, images are added with
`product_image_add` (validation + thumbnail), products are published and archived with
their services, sale prices are scheduled and deleted with `sale_price_schedule` /
`sale_price_delete` (reviews are moderated in the reviews app's admin),
variants are created and changed with `variant_create` / `variant_update` (SKU, prices, sales
still to come, backorder policy) and their attribute values set with `variant_attributes_set`.
A renamed attribute choice marks the products carrying it for search
(`search_index_mark_dirty`): there is no service for attributes.
Changelists load their foreign keys with `list_select_related`, so a page costs a fixed number of
queries even over a million products."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from catalog.models import (
    Attribute,
    AttributeChoice,
    AttributeType,
    Category,
    Product,
    ProductImage,
    ProductType,
    ProductVariant,
    SearchLexeme,
    SearchSuggestion,
    VariantAttributeValue,
    VariantSalePrice,
)
from catalog.selectors import category_path_in_subtree
from catalog.services import (
    VARIANT_UPDATE_FIELDS,
    category_create,
    category_move,
    category_update,
    image_validate,
    product_archive,
    product_create,
    product_image_add,
    product_publish,
    product_update,
    sale_price_delete,
    sale_price_schedule,
    variant_attributes_set,
    variant_create,
    variant_delete,
    variant_price_validate,
    variant_update,
)
from inventory.services import stock_backorder_sync
from search.services import search_index_mark_dirty
from shop.core.admin import ReadOnlyAdmin, ServiceRefusalAsMessage
from shop.core.errors import ServiceError


def _form_errors_from(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal on the form instead of a server error."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        form.add_error(name if name in form.fields else None, errors)


def _thumbnail_tag(image: ProductImage) -> str:
    field = image.thumbnail or image.image
    if not field:
        return "—"
    return format_html(
        '<img src="{}" alt="" width="60" height="60" style="object-fit:cover">', field.url
    )


# --- categories ---------------------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description", "position", "is_featured", "attributes"]

    def clean_parent(self) -> Category | None:
        parent = self.cleaned_data.get("parent")
        if (
            parent is not None
            and self.instance.pk
            and category_path_in_subtree(path=parent.path, root_path=self.instance.path)
        ):
            # `category_move` refuses this too; checking here shows it as a form error
            raise forms.ValidationError(
                "A category cannot move under itself or one of its descendants."
            )
        return parent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["indented_name", "slug", "parent", "depth", "position", "is_featured"]
    list_filter = ["depth", "is_featured"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    filter_horizontal = ["attributes"]
    list_select_related = ["parent"]
    readonly_fields = ["path", "depth"]

    @admin.display(description="name", ordering="path")
    def indented_name(self, obj: Category) -> str:
        return format_html("{}{}", "— " * obj.depth, obj.name)

    def save_model(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if not change:
            created = category_create(
                name=data["name"],
                slug=data["slug"],
                parent=data["parent"],
                description=data["description"],
                position=data["position"],
                is_featured=data["is_featured"],
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        with transaction.atomic():
            category_update(
                category=obj,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                position=data["position"],
                is_featured=data["is_featured"],
            )
            if "parent" in form.changed_data:
                category_move(category=obj, new_parent=data["parent"])
                obj.refresh_from_db()


# --- attributes and types -----------------------------------------------------------------------


class AttributeChoiceInline(admin.TabularInline):
    model = AttributeChoice
    extra = 0
    fields = ["value", "slug", "position"]
    prepopulated_fields = {"slug": ["value"]}


def _choices_renamed_mark(choices: list[AttributeChoice]) -> None:
    """Vectors and OpenSearch documents carry choice values: products with a renamed one are
    refreshed."""
    if choices:
        search_index_mark_dirty(
            condition=Q(variants__attribute_values__choice__in=[c.pk for c in choices])
        )


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "type", "unit", "is_filterable"]
    list_filter = ["type", "is_filterable"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AttributeChoiceInline]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            _choices_renamed_mark(
                [choice for choice, fields in formset.changed_objects if "value" in fields]
            )


@admin.register(AttributeChoice)
class AttributeChoiceAdmin(admin.ModelAdmin):
    list_display = ["value", "attribute", "slug", "position"]
    list_filter = ["attribute"]
    search_fields = ["value", "slug", "attribute__name"]
    autocomplete_fields = ["attribute"]
    list_select_related = ["attribute"]

    def save_model(
        self, request: HttpRequest, obj: AttributeChoice, form: forms.ModelForm, change: bool
    ) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "value" in form.changed_data:
                _choices_renamed_mark([obj])


@admin.register(ProductType)
class ProductTypeAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["attributes"]


# --- products -----------------------------------------------------------------------------------


class VariantForm(forms.ModelForm):
    """What `variant_create` / `variant_update` take (currency is the shop's; the order of
    variants is the portal's)."""

    class Meta:
        model = ProductVariant
        fields = ["product", *VARIANT_UPDATE_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("price") is not None:
            try:
                variant_price_validate(
                    price=data["price"], compare_at_price=data.get("compare_at_price")
                )
            except ServiceError as exc:
                _form_errors_from(self, exc)
        if self.instance.pk and "allow_backorder" in self.changed_data:
            wanted = bool(self.cleaned_data.get("allow_backorder"))
            self._backorder_change_validate(allow_backorder=wanted)
        return data

    def _backorder_change_validate(self, *, allow_backorder: bool) -> None:
        """Validate only, like the sale price form: the stock rows follow in `variant_update`
        once the variant is saved. Turning backorders off is refused while a warehouse has more
        promised than on hand."""
        probe = ProductVariant(pk=self.instance.pk, allow_backorder=allow_backorder)
        try:
            with transaction.atomic():
                stock_backorder_sync(variant=probe)
                transaction.set_rollback(True)
        except ServiceError as exc:
            self.add_error("allow_backorder", exc.message)


def variant_save_through_services(
    *, form: forms.ModelForm, product: Product, change: bool
) -> ProductVariant:
    """Save an admin variant form with the services the portal and the API use: SKU, price,
    compare-at price, sales still to come, backorder policy. The form has already copied its
    values onto `form.instance`, so the variant is read afresh: the service compares against
    what is stored."""
    values = {name: form.cleaned_data[name] for name in VARIANT_UPDATE_FIELDS}
    if change:
        return variant_update(
            variant=ProductVariant.objects.select_related("product").get(pk=form.instance.pk),
            **values,
        )
    return variant_create(product=product, **values)


class VariantInline(admin.TabularInline):
    """Saved through the variant services (ProductAdmin.save_formset); variants are
    deactivated, never deleted (stock and orders refer to them)."""

    model = ProductVariant
    form = VariantForm
    extra = 0
    can_delete = False
    fields = list(VARIANT_UPDATE_FIELDS)
    show_change_link = True  # attribute values and sale prices live on the variant's page


class ProductImageInlineForm(forms.ModelForm):
    class Meta:
        model = ProductImage
        fields = ["image", "variant", "alt_text", "position"]

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if isinstance(upload, UploadedFile):
            try:
                image_validate(upload=upload)
            except ServiceError as exc:
                raise forms.ValidationError(exc.fields.get("image") or exc.message) from exc
        return upload


class ProductImageInline(admin.TabularInline):
    """New images are stored by `product_image_add` (see ProductAdmin.save_formset)."""

    model = ProductImage
    form = ProductImageInlineForm
    extra = 0
    fields = ["preview", "image", "variant", "alt_text", "position"]
    readonly_fields = ["preview"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # only this product's variants may be chosen
            variant_field = formset.form.base_fields["variant"]
            assert isinstance(variant_field, forms.ModelChoiceField)
            variant_field.queryset = ProductVariant.objects.filter(product=obj)
        return formset

    @admin.display(description="thumbnail")
    def preview(self, obj: ProductImage) -> str:
        return _thumbnail_tag(obj) if obj.pk else "—"


@admin.register(Product)
class ProductAdmin(ServiceRefusalAsMessage, admin.ModelAdmin):
    list_display = [
        "name",
        "seller",
        "category",
        "status",
        "brand",
        "is_featured",
        "rating_avg",
        "published_at",
    ]
    list_filter = ["status", "is_featured", "seller__status", "tax_class"]
    search_fields = ["name", "slug", "brand", "seller__name"]
    list_select_related = ["seller", "category"]
    autocomplete_fields = ["seller", "category", "product_type"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = [
        "status",
        "published_at",
        "rating_avg",
        "rating_count",
        "created_at",
        "updated_at",
    ]
    inlines = [VariantInline, ProductImageInline]
    actions = ["publish", "archive"]
    # a million products: skip the unfiltered COUNT(*) the changelist would add to every page
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "seller",
                    "category",
                    "product_type",
                    "brand",
                    "description",
                ]
            },
        ),
        (
            "Status (change with the list actions)",
            {"fields": ["status", "published_at", "is_featured", "tax_class"]},
        ),
        ("Reviews", {"fields": ["rating_avg", "rating_count"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # a product's stock and orders belong to its seller: it never moves to another
        return [*self.readonly_fields, "seller"] if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Product, form, change: bool) -> None:
        data = form.cleaned_data
        values = {
            "name": data["name"],
            "category": data["category"],
            "product_type": data["product_type"],
            "brand": data["brand"],
            "description": data["description"],
            "tax_class": data["tax_class"],
            "is_featured": data["is_featured"],
        }
        if change:
            product_update(product=obj, slug=data["slug"], **values)
            return
        created = product_create(seller=data["seller"], slug=data["slug"], **values)
        obj.pk = created.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is ProductVariant:
            # what BaseModelFormSet.save() would record, for the admin's change message
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for variant_form in formset.forms:
                if not variant_form.has_changed():
                    continue
                existing = variant_form.instance.pk is not None
                variant = variant_save_through_services(
                    form=variant_form, product=form.instance, change=existing
                )
                if existing:
                    formset.changed_objects.append((variant, variant_form.changed_data))
                else:
                    formset.new_objects.append(variant)
            return None
        if formset.model is not ProductImage:
            return super().save_formset(request, form, formset, change)
        images = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for image in images:
            if image.pk:
                image.save()
                continue
            try:
                product_image_add(
                    product=form.instance,
                    upload=image.image.file,
                    alt_text=image.alt_text,
                    variant=image.variant,
                    position=image.position,
                )
            except ServiceError as exc:
                self.message_user(request, f"Image not added: {exc.message}", messages.ERROR)
        return None

    @admin.action(description="Publish selected products")
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._each(request, queryset, product_publish, "Published")

    @admin.action(description="Archive selected products")
    def archive(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._each(request, queryset, product_archive, "Archived")

    def _each(self, request: HttpRequest, queryset: QuerySet[Product], service, verb: str) -> None:
        done = 0
        for product in queryset.order_by("pk"):
            try:
                service(product=product)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{product}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} product(s).", messages.SUCCESS)


class VariantAttributeValueInline(admin.TabularInline):
    """Saved as one set with `variant_attributes_set` (ProductVariantAdmin.save_formset): every
    attribute of the product's type, checked per type."""

    model = VariantAttributeValue
    extra = 0
    autocomplete_fields = ["attribute", "choice"]
    fields = ["attribute", "choice", "value_text", "value_number", "value_boolean"]


def _attribute_input(form: forms.ModelForm) -> tuple[str, Any]:
    """(attribute slug, value) from one attribute value row, in the column its type uses."""
    data = form.cleaned_data
    attribute: Attribute = data["attribute"]
    columns: dict[str, str] = {
        AttributeType.CHOICE: "choice",
        AttributeType.NUMBER: "value_number",
        AttributeType.BOOLEAN: "value_boolean",
    }
    return attribute.slug, data.get(columns.get(attribute.type, "value_text"))


class VariantSalePriceInline(admin.TabularInline):
    """Scheduled sales, read-only here: add them on the sale price page (overlap checks)."""

    model = VariantSalePrice
    extra = 0
    fields = ["sale_price", "starts_at", "ends_at"]
    readonly_fields = ["sale_price", "starts_at", "ends_at"]
    can_delete = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ProductVariant)
class ProductVariantAdmin(ServiceRefusalAsMessage, admin.ModelAdmin):
    form = VariantForm
    list_display = ["sku", "product", "name", "price", "compare_at_price", "currency", "is_active"]
    list_filter = ["is_active", "allow_backorder", "currency"]
    search_fields = ["sku", "name", "product__name"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    inlines = [VariantAttributeValueInline, VariantSalePriceInline]
    show_full_result_count = False

    def delete_model(self, request: HttpRequest, obj: ProductVariant) -> None:
        variant_delete(variant=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProductVariant]) -> None:
        with transaction.atomic():
            for variant in queryset.order_by("pk"):
                variant_delete(variant=variant)

    def save_model(self, request: HttpRequest, obj: ProductVariant, form, change: bool) -> None:
        saved = variant_save_through_services(
            form=form, product=form.cleaned_data["product"], change=change
        )
        obj.pk = saved.pk

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is VariantSalePrice:
            # read-only rows: the only change is a deletion, through the service
            formset.new_objects, formset.changed_objects = [], []
            formset.deleted_objects = [f.instance for f in formset.deleted_forms if f.instance.pk]
            for sale in formset.deleted_objects:
                sale_price_delete(sale=sale)
            return None
        if formset.model is not VariantAttributeValue:
            return super().save_formset(request, form, formset, change)
        # what BaseModelFormSet.save() would record, for the admin's change message
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not formset.has_changed():
            return None
        kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        variant_attributes_set(
            variant=ProductVariant.objects.select_related("product__product_type").get(
                pk=form.instance.pk
            ),
            values=dict(_attribute_input(f) for f in kept),
        )
        return None


@admin.register(VariantAttributeValue)
class VariantAttributeValueAdmin(ReadOnlyAdmin):
    """A list to look values up; they are edited as a set on their variant's page (through
    `variant_attributes_set`: every attribute of the type, checked per type)."""

    list_display = ["variant", "attribute", "display_value"]
    list_filter = ["attribute"]
    search_fields = ["variant__sku", "value_text", "choice__value"]
    list_select_related = ["variant__product", "attribute", "choice"]
    raw_id_fields = ["variant"]
    autocomplete_fields = ["attribute", "choice"]
    show_full_result_count = False


class SalePriceForm(forms.ModelForm):
    class Meta:
        model = VariantSalePrice
        fields = ["variant", "sale_price", "starts_at", "ends_at"]


@admin.register(VariantSalePrice)
class VariantSalePriceAdmin(admin.ModelAdmin):
    """New sale prices are scheduled with `sale_price_schedule` (below the price, no overlap);
    existing ones can be deleted, not edited."""

    form = SalePriceForm
    list_display = ["variant", "sale_price", "starts_at", "ends_at"]
    search_fields = ["variant__sku", "variant__product__name"]
    list_select_related = ["variant__product"]
    raw_id_fields = ["variant"]
    date_hierarchy = "starts_at"

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["variant", "sale_price", "starts_at", "ends_at"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            return form_class

        class ScheduledSaleForm(form_class):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if self.errors:
                    return data
                try:
                    with transaction.atomic():
                        sale_price_schedule(
                            variant=data["variant"],
                            sale_price=data["sale_price"],
                            starts_at=data["starts_at"],
                            ends_at=data.get("ends_at"),
                        )
                        # validate only: save_model below keeps the row this creates
                        transaction.set_rollback(True)
                except ServiceError as exc:
                    _form_errors_from(self, exc)
                return data

        return ScheduledSaleForm

    def delete_model(self, request: HttpRequest, obj: VariantSalePrice) -> None:
        sale_price_delete(sale=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VariantSalePrice]) -> None:
        with transaction.atomic():
            for sale in queryset.select_related("variant").order_by("pk"):
                sale_price_delete(sale=sale)

    def save_model(self, request: HttpRequest, obj: VariantSalePrice, form, change: bool) -> None:
        if change:
            return
        created = sale_price_schedule(
            variant=obj.variant,
            sale_price=obj.sale_price,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
        )
        obj.pk = created.pk


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    """Uploads go through `product_image_add` (validation and the generated thumbnail)."""

    form = ProductImageInlineForm
    list_display = ["__str__", "preview", "product", "variant", "position", "width", "height"]
    search_fields = ["alt_text", "product__name"]
    list_select_related = ["product", "variant"]
    raw_id_fields = ["product", "variant"]
    show_full_result_count = False

    def get_fields(self, request: HttpRequest, obj=None) -> list[Any]:
        return ["product", "image", "variant", "alt_text", "position"] + (
            ["preview"] if obj else []
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["preview", "product", "image"] if obj else []

    @admin.display(description="thumbnail")
    def preview(self, obj: ProductImage) -> str:
        return _thumbnail_tag(obj)

    def save_model(self, request: HttpRequest, obj: ProductImage, form, change: bool) -> None:
        if change:
            obj.save()
            return
        created = product_image_add(
            product=form.cleaned_data["product"],
            upload=form.cleaned_data["image"],
            alt_text=obj.alt_text,
            variant=obj.variant,
            position=obj.position,
        )
        obj.pk = created.pk


@admin.register(SearchSuggestion)
class SearchSuggestionAdmin(admin.ModelAdmin):
    """The autocomplete table is derived from products: `search_reindex` rebuilds it."""

    list_display = ["label", "word", "weight"]
    search_fields = ["word", "phrase"]


@admin.register(SearchLexeme)
class SearchLexemeAdmin(ReadOnlyAdmin):
    """Derived from the search vectors (prefix expansion): the vector writers add to it and
    `search_reindex --lexemes` repairs it."""

    list_display = ["lexeme"]
    search_fields = ["=lexeme"]
    show_full_result_count = False
