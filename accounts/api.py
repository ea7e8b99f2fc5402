from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken


@extend_schema(tags=["auth"], summary="Exchange email and password for an API token")
class TokenObtainView(ObtainAuthToken):
    """POST `username` (the email address) and `password`; returns `{"token": ...}`.
    Send it as `Authorization: Token <token>` on later requests."""
