from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import ApiTokenCreatedSerializer, ApiTokenSerializer, ProfileSerializer
from accounts.models import ApiToken, User


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class ProfileView(APIView):
    """The signed-in person's own profile."""

    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(_user(request)).data)

    @extend_schema(request=ProfileSerializer, responses=ProfileSerializer)
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(_user(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.profile_update(user=_user(request), **serializer.validated_data)
        except services.AccountError as error:
            raise ValidationError(str(error)) from error
        return Response(ProfileSerializer(user).data)


class ApiTokenListView(generics.ListAPIView[ApiToken]):
    """Your API keys (their hashes stay secret; only the prefix is shown)."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> Any:
        return selectors.api_tokens_of(user=_user(self.request))

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, key = services.api_token_issue(user=_user(request), name=serializer.validated_data["name"])
        except services.AccountError as error:
            raise ValidationError({"name": [str(error)]}) from error
        data = ApiTokenSerializer(token).data | {"key": key}
        return Response(data, status=status.HTTP_201_CREATED)


class ApiTokenRevokeView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        token = selectors.api_token_of(user=_user(request), token_id=token_id)
        if token is None:
            raise NotFound("No such key.")
        services.api_token_revoke(token=token, acting_user=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
