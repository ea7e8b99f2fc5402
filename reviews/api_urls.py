from django.urls import path

from reviews import api

urlpatterns = [
    path(
        "products/<slug:slug>/reviews/",
        api.ProductReviewsView.as_view(),
        name="api-product-reviews",
    ),
    path(
        "products/<slug:slug>/questions/",
        api.ProductQuestionsView.as_view(),
        name="api-product-questions",
    ),
    path("reviews/<id:review_id>/", api.ReviewView.as_view(), name="api-review"),
    path("reviews/<id:review_id>/vote/", api.ReviewVoteView.as_view(), name="api-review-vote"),
    path(
        "reviews/<id:review_id>/report/", api.ReviewReportView.as_view(), name="api-review-report"
    ),
    path(
        "questions/<id:question_id>/answers/",
        api.QuestionAnswersView.as_view(),
        name="api-question-answers",
    ),
    path(
        "questions/<id:question_id>/report/",
        api.QuestionReportView.as_view(),
        name="api-question-report",
    ),
    path(
        "answers/<id:answer_id>/report/", api.AnswerReportView.as_view(), name="api-answer-report"
    ),
    path(
        "seller-orders/<id:seller_order_id>/rating/",
        api.SellerRatingView.as_view(),
        name="api-seller-rating",
    ),
]
