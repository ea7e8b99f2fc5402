from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("write/<slug:slug>/", views.review_write, name="write"),
    path("<id:review_id>/delete/", views.review_remove, name="delete"),
    path("<id:review_id>/helpful/", views.review_helpful, name="helpful"),
    path("<id:review_id>/report/", views.review_report, name="report"),
    path("questions/ask/<slug:slug>/", views.question_new, name="ask"),
    path("questions/<id:question_id>/answer/", views.answer_new, name="answer"),
    path("questions/<id:question_id>/report/", views.question_report, name="question_report"),
    path("answers/<id:answer_id>/report/", views.answer_report, name="answer_report"),
    path("sellers/<id:seller_order_id>/rate/", views.seller_rating_new, name="rate_seller"),
]
