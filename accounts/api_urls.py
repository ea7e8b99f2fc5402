from django.urls import path

from accounts import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("auth/signup/", api.SignupView.as_view(), name="api-signup"),
    path("addresses/", api.AddressListView.as_view(), name="api-addresses"),
    path("addresses/<int:pk>/", api.AddressDetailView.as_view(), name="api-address"),
    path(
        "addresses/<int:pk>/default/", api.AddressDefaultView.as_view(), name="api-address-default"
    ),
]
