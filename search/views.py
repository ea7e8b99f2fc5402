"""Storefront search: the results page with its facet sidebar (a plain GET form, so it works
without JavaScript). Thin: the list is built as every storefront list is (`search.pages`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from search.pages import listing_page_context


def search(request: HttpRequest) -> HttpResponse:
    context, status = listing_page_context(request)
    return render(request, "storefront/search/results.html", context, status=status)
