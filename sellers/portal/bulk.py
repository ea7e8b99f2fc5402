"""Portal pages for the bulk CSV export and import (`sellers.bulk`). Owners and managers only
(the "products" permission); every job lookup is scoped to the current seller."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sellers.bulk.export import catalog_export_rows
from sellers.bulk.imports import (
    catalog_import_check,
    catalog_import_job_create,
    catalog_import_job_start,
    import_job_get_for_seller,
    import_jobs_recent,
)
from sellers.models import CatalogImportJob, ImportStatus, SellerMember
from sellers.portal.forms import ImportForm
from sellers.portal.views import _ctx, portal_view
from shop.core.errors import ServiceError


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _lines(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark so spreadsheet programs open the file as UTF-8; the import accepts it.
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


@require_GET
@portal_view("products")
def catalog_export(request: HttpRequest, membership: SellerMember) -> HttpResponseBase:
    seller = membership.seller
    response = StreamingHttpResponse(
        _lines(catalog_export_rows(seller=seller)), content_type="text/csv; charset=utf-8"
    )
    name = f"{seller.slug}-products-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _page(
    request: HttpRequest, membership: SellerMember, status: int = 200, **extra: object
) -> HttpResponse:
    return render(
        request,
        "portal/products/csv.html",
        _ctx(
            request,
            membership,
            jobs=import_jobs_recent(seller=membership.seller),
            max_rows=settings.SELLER_IMPORT_MAX_ROWS,
            max_mb=settings.SELLER_IMPORT_MAX_BYTES // (1024 * 1024),
            **extra,
        ),
        status=status,
    )


@portal_view("products")
def catalog_csv(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    """GET: export link, upload form and recent imports. POST: the dry run of an upload; a file
    without errors is kept as a job waiting for the member to start it."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return _page(request, membership, form=form)
    if not form.is_valid():
        return _page(request, membership, status=400, form=form)
    upload = form.cleaned_data["file"]
    # Reading one byte past the limit is enough to refuse an oversized file.
    data = upload.read(settings.SELLER_IMPORT_MAX_BYTES + 1)
    plan = catalog_import_check(seller=membership.seller, data=data)
    if plan.errors:
        return _page(request, membership, status=400, form=ImportForm(), plan=plan)
    job = catalog_import_job_create(
        membership=membership, filename=upload.name or "import.csv", data=data, plan=plan
    )
    messages.success(request, "The file has no errors. Check the summary, then start the import.")
    return redirect("portal:import_job", job_id=job.pk)


@portal_view("products")
def import_job(request: HttpRequest, membership: SellerMember, job_id: int) -> HttpResponse:
    job = import_job_get_for_seller(seller=membership.seller, pk=job_id)
    return render(
        request,
        "portal/products/import_job.html",
        _ctx(request, membership, job=job, running=_running(job)),
    )


@require_POST
@portal_view("products")
def import_job_start(request: HttpRequest, membership: SellerMember, job_id: int) -> HttpResponse:
    job = import_job_get_for_seller(seller=membership.seller, pk=job_id)
    try:
        catalog_import_job_start(job=job)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The import has started.")
    return redirect("portal:import_job", job_id=job.pk)


@require_GET
@portal_view("products")
def import_job_progress(
    request: HttpRequest, membership: SellerMember, job_id: int
) -> JsonResponse:
    job = import_job_get_for_seller(seller=membership.seller, pk=job_id)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "status_display": job.get_status_display(),
            "finished": job.is_finished,
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "percent": job.percent,
            "errors": len(job.errors),
            "url": reverse("portal:import_job", kwargs={"job_id": job.pk}),
        }
    )


def _running(job: CatalogImportJob) -> bool:
    return job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
