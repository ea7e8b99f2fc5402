"""Reviews, questions and seller ratings for the mobile apps: thin callers of
`reviews.services`; errors come out in the API's one shape (`shop.core.api`)."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from reviews.models import Question, Review
from reviews.selectors import (
    ReviewSort,
    answer_get_public,
    product_get_reviewable,
    question_get_public,
    questions_public,
    review_get_own,
    review_get_public,
    review_shaped,
    reviews_public,
    seller_order_get_for_rating,
)
from reviews.serializers import (
    AnswerSerializer,
    QuestionSerializer,
    ReportSerializer,
    ReviewEditSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
    SellerRatingSerializer,
    TextSerializer,
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
from shop.core.errors import ValidationError
from shop.core.numbers import NumberError, integer_parse

PARSERS = [JSONParser, MultiPartParser, FormParser]


def _user(request: Request) -> User:
    return cast(User, request.user)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _review_body(request: Request, review: Review) -> dict:
    return ReviewSerializer(review_shaped(pk=review.pk), context={"request": request}).data


@extend_schema(tags=["reviews"])
class ProductReviewsView(generics.ListAPIView):
    """Published reviews of a product (GET); a buyer's review of it (POST, JSON or multipart
    with up to 5 `photos`)."""

    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = PARSERS
    queryset = Review.objects.none()  # the schema's model; get_queryset answers requests

    @extend_schema(
        parameters=[
            OpenApiParameter("sort", str, enum=[s.value for s in ReviewSort]),
            OpenApiParameter("stars", int, description="Only reviews with this many stars."),
            OpenApiParameter("with_photos", bool),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        product = product_get_reviewable(slug=self.kwargs["slug"])
        params = self.request.query_params
        try:
            sort = ReviewSort(params.get("sort", ReviewSort.NEWEST))
            stars_raw = params.get("stars", "")
            stars = integer_parse(stars_raw, min_value=1, max_value=5) if stars_raw else None
        except (ValueError, NumberError) as exc:
            raise ValidationError(
                "Invalid filter.", fields={"sort/stars": ["Use a listed sort and 1 to 5 stars."]}
            ) from exc
        return reviews_public(
            product_id=product.pk,
            sort=sort,
            stars=stars,
            with_photos=params.get("with_photos") in ("1", "true"),
        )

    @extend_schema(request=ReviewWriteSerializer, responses={201: ReviewSerializer})
    def post(self, request: Request, slug: str) -> Response:
        product = product_get_reviewable(slug=slug)
        data = _valid(ReviewWriteSerializer, request)
        review = review_create(user=_user(request), product=product, **data)
        return Response(_review_body(request, review), status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"])
class ReviewView(APIView):
    """The signed-in author's own review: edit (PATCH, the previous text is kept) or delete."""

    permission_classes = [IsAuthenticated]
    parser_classes = PARSERS

    @extend_schema(request=ReviewEditSerializer, responses={200: ReviewSerializer})
    def patch(self, request: Request, review_id: int) -> Response:
        review = review_get_own(user=_user(request), pk=review_id)
        data = _valid(ReviewEditSerializer, request)
        review = review_update(
            review=review,
            user=_user(request),
            rating=data["rating"],
            title=data.get("title", ""),
            body=data.get("body", ""),
            photos_add=data.get("photos", []),
            photo_ids_remove=data.get("remove_photos", []),
        )
        return Response(_review_body(request, review))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, review_id: int) -> Response:
        review = review_get_own(user=_user(request), pk=review_id)
        review_delete(review=review, user=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["reviews"])
class ReviewVoteView(APIView):
    """Mark a review helpful (POST) or take the vote back (DELETE)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: ReviewSerializer})
    def post(self, request: Request, review_id: int) -> Response:
        review = review_vote(review=review_get_public(pk=review_id), user=_user(request))
        return Response(_review_body(request, review))

    @extend_schema(request=None, responses={200: ReviewSerializer})
    def delete(self, request: Request, review_id: int) -> Response:
        review = review_vote(
            review=review_get_public(pk=review_id), user=_user(request), helpful=False
        )
        return Response(_review_body(request, review))


def _report(request: Request, item) -> Response:
    data = _valid(ReportSerializer, request)
    content_report(item=item, user=_user(request), **data)
    return Response({"reported": True}, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"], request=ReportSerializer, responses={201: None})
class ReviewReportView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request, review_id: int) -> Response:
        return _report(request, review_get_public(pk=review_id))


@extend_schema(tags=["reviews"], request=ReportSerializer, responses={201: None})
class QuestionReportView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request, question_id: int) -> Response:
        return _report(request, question_get_public(pk=question_id))


@extend_schema(tags=["reviews"], request=ReportSerializer, responses={201: None})
class AnswerReportView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request, answer_id: int) -> Response:
        return _report(request, answer_get_public(pk=answer_id))


@extend_schema(tags=["reviews"])
class ProductQuestionsView(generics.ListAPIView):
    """Published questions of a product with their answers (GET); ask one (POST)."""

    serializer_class = QuestionSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    queryset = Question.objects.none()  # the schema's model; get_queryset answers requests

    def get_queryset(self):
        return questions_public(product_id=product_get_reviewable(slug=self.kwargs["slug"]).pk)

    @extend_schema(request=TextSerializer, responses={201: QuestionSerializer})
    def post(self, request: Request, slug: str) -> Response:
        product = product_get_reviewable(slug=slug)
        question = question_ask(
            user=_user(request), product=product, body=_valid(TextSerializer, request)["body"]
        )
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"], request=TextSerializer, responses={201: AnswerSerializer})
class QuestionAnswersView(APIView):
    """A verified buyer answers a question (sellers answer from the portal)."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, question_id: int) -> Response:
        answer = answer_post(
            question=question_get_public(pk=question_id),
            user=_user(request),
            body=_valid(TextSerializer, request)["body"],
        )
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reviews"], request=SellerRatingSerializer, responses={201: None})
class SellerRatingView(APIView):
    """Rate the seller of one of the customer's seller orders (once)."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, seller_order_id: int) -> Response:
        seller_order = seller_order_get_for_rating(user=_user(request), pk=seller_order_id)
        rating = seller_rate(
            seller_order=seller_order,
            user=_user(request),
            **_valid(SellerRatingSerializer, request),
        )
        return Response({"id": rating.pk}, status=status.HTTP_201_CREATED)
