"""The seller portal's reviews and questions: every review and question of the shop's
products (another shop's are not found), one public reply per review, answers to questions.
Sellers cannot edit, hide or delete reviews; those are staff's (reviews admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from reviews.forms import AnswerForm, ReplyForm
from reviews.selectors import (
    question_get_for_seller,
    questions_for_seller,
    review_get_for_seller,
    reviews_for_seller,
)
from reviews.services import answer_post, review_reply
from sellers.models import SellerMember
from sellers.portal.views import _ctx, portal_view
from shop.core.errors import ServiceError

PAGE_SIZE = 25


@portal_view("products")
def review_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    page = Paginator(reviews_for_seller(seller_id=membership.seller_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/reviews/list.html",
        _ctx(request, membership, page=page, reply_form=ReplyForm()),
    )


@portal_view("products")
@require_POST
def review_reply_new(
    request: HttpRequest, membership: SellerMember, review_id: int
) -> HttpResponse:
    review = review_get_for_seller(seller_id=membership.seller_id, pk=review_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a reply of at most 2,000 characters.")
    else:
        try:
            review_reply(
                review=review,
                seller_id=membership.seller_id,
                author=membership.user,
                body=form.cleaned_data["body"],
            )
            messages.success(request, "Your reply is published under the review.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("portal:reviews")


@portal_view("products")
def question_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    page = Paginator(questions_for_seller(seller_id=membership.seller_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/reviews/questions.html",
        _ctx(request, membership, page=page),
    )


@portal_view("products")
@require_POST
def question_answer(
    request: HttpRequest, membership: SellerMember, question_id: int
) -> HttpResponse:
    question = question_get_for_seller(seller_id=membership.seller_id, pk=question_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write an answer of at most 1,000 characters.")
    else:
        try:
            answer_post(
                question=question,
                user=membership.user,
                body=form.cleaned_data["body"],
                seller_id=membership.seller_id,
            )
            messages.success(request, "Your answer is published.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("portal:questions")
