"""API shapes of reviews, questions and seller ratings. They parse; the services decide."""

from __future__ import annotations

from rest_framework import serializers

from reviews.models import Answer, Question, ReportReason, Review
from reviews.services import BODY_MAX, MAX_PHOTOS, NOTE_MAX, QUESTION_MAX, TITLE_MAX
from shop.core.fields import IntegerApiField


def _author(user) -> str:
    return user.full_name or "A customer"


class ReviewReplySerializer(serializers.Serializer):
    seller = serializers.CharField(source="seller.name")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    variant = serializers.CharField(source="variant.name", default=None, allow_null=True)
    photos = serializers.SerializerMethodField()
    reply = ReviewReplySerializer(default=None, allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "rating",
            "title",
            "body",
            "author",
            "verified_purchase",
            "variant",
            "helpful_count",
            "photos",
            "reply",
            "status",
            "created_at",
            "edited_at",
        ]

    def get_author(self, review: Review) -> str:
        return _author(review.user)

    def get_photos(self, review: Review) -> list[str]:
        request = self.context.get("request")
        urls = [photo.image.url for photo in review.photos.all()]
        return [request.build_absolute_uri(u) for u in urls] if request else urls


class ReviewWriteSerializer(serializers.Serializer):
    rating = IntegerApiField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=TITLE_MAX, required=False, allow_blank=True)
    body = serializers.CharField(max_length=BODY_MAX, required=False, allow_blank=True)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=MAX_PHOTOS
    )


class ReviewEditSerializer(ReviewWriteSerializer):
    remove_photos = serializers.ListField(
        child=IntegerApiField(min_value=1), required=False, max_length=MAX_PHOTOS
    )


class ReportSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True)


class AnswerSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["id", "body", "author", "by_seller", "status", "created_at"]

    def get_author(self, answer: Answer) -> str:
        return _author(answer.user)


class QuestionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "body", "author", "status", "created_at", "answers"]

    def get_author(self, question: Question) -> str:
        return _author(question.user)


class TextSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=QUESTION_MAX)


class SellerRatingSerializer(serializers.Serializer):
    shipping_speed = IntegerApiField(min_value=1, max_value=5)
    item_as_described = IntegerApiField(min_value=1, max_value=5)
    communication = IntegerApiField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=BODY_MAX, required=False, allow_blank=True)
