from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="api-token"),
    path("auth/tokens/", api.TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>/", api.TokenDetailView.as_view(), name="api-token-revoke"),
    path("auth/logout/", api.LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", api.LogoutAllView.as_view(), name="api-logout-all"),
    path("auth/password/change/", api.PasswordChangeView.as_view(), name="api-password-change"),
    path("auth/password/reset/", api.PasswordResetView.as_view(), name="api-password-reset"),
    path(
        "auth/password/reset/confirm/",
        api.PasswordResetConfirmView.as_view(),
        name="api-password-reset-confirm",
    ),
    path("auth/email/verify/", api.EmailVerifyView.as_view(), name="api-email-verify"),
    path(
        "auth/email/verify/resend/",
        api.EmailVerifyResendView.as_view(),
        name="api-email-verify-resend",
    ),
    path("auth/email/change/", api.EmailChangeView.as_view(), name="api-email-change"),
    path(
        "auth/email/change/confirm/",
        api.EmailChangeConfirmView.as_view(),
        name="api-email-change-confirm",
    ),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("me/delete/", api.AccountDeleteView.as_view(), name="api-account-delete"),
    path("auth/signup/", api.SignupView.as_view(), name="api-signup"),
    path("addresses/", api.AddressListView.as_view(), name="api-addresses"),
    path("addresses/<id:pk>/", api.AddressDetailView.as_view(), name="api-address"),
    path(
        "addresses/<id:pk>/default/", api.AddressDefaultView.as_view(), name="api-address-default"
    ),
]
