from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path(
        "reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("verify/<str:token>/", views.email_verify, name="email_verify"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("settings/", views.account_settings, name="settings"),
    path("settings/password/", views.password_change, name="password_change"),
    path("settings/email/", views.email_change, name="email_change"),
    path("settings/email/resend/", views.email_verify_resend, name="email_verify_resend"),
    path("settings/tokens/<str:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/tokens/revoke-all/", views.tokens_revoke_all, name="tokens_revoke_all"),
    path("settings/two-factor/", views.two_factor, name="two_factor"),
    path("settings/two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
    path("delete/", views.account_delete, name="delete"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/new/", views.address_new, name="address_new"),
    path("addresses/<id:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<id:pk>/delete/", views.address_delete_view, name="address_delete"),
    path("addresses/<id:pk>/default/", views.address_default, name="address_default"),
]
