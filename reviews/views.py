"""Storefront faces of reviews, seller ratings and questions: thin callers of the services.
The product page's section is rendered by the `product_reviews` tag (reviews/templatetags)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from catalog.selectors import product_get_public
from reviews.forms import AnswerForm, QuestionForm, ReportForm, ReviewForm, SellerRatingForm
from reviews.models import Answer, Question, Review
from reviews.selectors import (
    answer_get_public,
    purchase_lines,
    question_get_public,
    review_get_own,
    review_get_public,
    review_of_user,
    seller_order_get_for_rating,
)
from reviews.services import (
    answer_post,
    content_report,
    question_ask,
    review_create,
    review_delete,
    review_update,
    review_vote,
    seller_rate,
)
from shop.core.errors import NotFound, ServiceError


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _product_url(product) -> str:
    return reverse("catalog:product", args=[product.slug]) + "#reviews"


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _form_error(form, exc: ServiceError) -> None:
    placed = False
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@login_required
def review_write(request: HttpRequest, slug: str) -> HttpResponse:
    """Write or edit the signed-in buyer's review of a product (reached from the order page)."""
    try:
        product = product_get_public(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    user = _user(request)
    review = review_of_user(user=user, product=product)
    photos = list(review.photos.all()) if review else []
    initial = (
        {"rating": review.rating, "title": review.title, "body": review.body} if review else None
    )
    form = ReviewForm(request.POST or None, request.FILES or None, initial=initial, photos=photos)
    line = purchase_lines(user=user, product=product).first()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if review is None:
                review = review_create(
                    user=user,
                    product=product,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    photos=data["photos"],
                )
            else:
                review = review_update(
                    review=review,
                    user=user,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    photos_add=data["photos"],
                    photo_ids_remove=data.get("remove_photos") or [],
                )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            if review.status == "published":
                messages.success(request, "Thank you: your review is published.")
            else:
                messages.info(
                    request, "Thank you: your review will appear once our team has checked it."
                )
            return redirect(_product_url(product))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "storefront/reviews/write.html",
        {"product": product, "form": form, "review": review, "photos": photos, "line": line},
        status=status,
    )


@login_required
@require_POST
def review_remove(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        review = review_get_own(user=_user(request), pk=review_id)
        review_delete(review=review, user=_user(request))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, "Your review was deleted.")
    return redirect(_product_url(review.product))


@login_required
@require_POST
def review_helpful(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        review = review_get_public(pk=review_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    try:
        review_vote(review=review, user=_user(request), helpful=request.POST.get("helpful") != "0")
        messages.success(request, "Thank you for your vote.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(request, _product_url(review.product))


def _report(request: HttpRequest, item: Review | Question | Answer, product) -> HttpResponse:
    form = ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a reason for the report.")
    else:
        try:
            content_report(
                item=item,
                user=_user(request),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, "Thank you: our team will look at it.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return _back(request, _product_url(product))


@login_required
@require_POST
def review_report(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        review = review_get_public(pk=review_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _report(request, review, review.product)


@login_required
@require_POST
def question_report(request: HttpRequest, question_id: int) -> HttpResponse:
    try:
        question = question_get_public(pk=question_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _report(request, question, question.product)


@login_required
@require_POST
def answer_report(request: HttpRequest, answer_id: int) -> HttpResponse:
    try:
        answer = answer_get_public(pk=answer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _report(request, answer, answer.question.product)


@login_required
@require_POST
def question_new(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = product_get_public(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = QuestionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write your question (at most 1,000 characters).")
    else:
        try:
            question = question_ask(
                user=_user(request), product=product, body=form.cleaned_data["body"]
            )
            messages.success(
                request,
                "Your question is published."
                if question.status == "published"
                else "Your question will appear once our team has checked it.",
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect(reverse("catalog:product", args=[product.slug]) + "#questions")


@login_required
@require_POST
def answer_new(request: HttpRequest, question_id: int) -> HttpResponse:
    try:
        question = question_get_public(pk=question_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write your answer (at most 1,000 characters).")
    else:
        try:
            answer_post(question=question, user=_user(request), body=form.cleaned_data["body"])
            messages.success(request, "Thank you for your answer.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect(reverse("catalog:product", args=[question.product.slug]) + "#questions")


@login_required
def seller_rating_new(request: HttpRequest, seller_order_id: int) -> HttpResponse:
    try:
        seller_order = seller_order_get_for_rating(user=_user(request), pk=seller_order_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    order_url = reverse("orders:detail", args=[seller_order.order.number])
    form = SellerRatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            seller_rate(seller_order=seller_order, user=_user(request), **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Thank you for rating {seller_order.seller.name}.")
            return redirect(order_url)
    return render(
        request,
        "storefront/reviews/rate_seller.html",
        {"seller_order": seller_order, "form": form, "order_url": order_url},
        status=400 if request.method == "POST" else 200,
    )
