from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.serializers import MeSerializer
from sellers.selectors import seller_memberships_for_user


@extend_schema(tags=["auth"], summary="Exchange email and password for an API token")
class TokenObtainView(ObtainAuthToken):
    """POST `username` (the email address) and `password`; returns `{"token": ...}`.
    Send it as `Authorization: Token <token>` on later requests."""


class MeView(GenericAPIView):
    """The signed-in user (token or session) and the sellers they act for."""

    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer
    pagination_class = None
    queryset = User.objects.none()  # for the schema generator only

    @extend_schema(tags=["auth"], summary="Who am I", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = seller_memberships_for_user(user=user)
        return Response(
            self.get_serializer(
                {
                    "email": user.email,
                    "full_name": user.full_name,
                    "is_staff": user.is_staff,
                    "seller_memberships": memberships,
                }
            ).data
        )
