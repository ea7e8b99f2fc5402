from django.urls import path

from fulfilment import views

app_name = "fulfilment"

urlpatterns = [
    path("orders/<str:number>/returns/", views.return_request, name="return_request"),
    path(
        "orders/guest/<str:token>/returns/",
        views.guest_return_request,
        name="guest_return_request",
    ),
]
