from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from accounts.models import ApiToken, User


class ProfileSerializer(serializers.ModelSerializer[User]):
    country = CountryField(allow_blank=True, required=False)

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "organisation", "country", "legal_name", "legal_address"]
        read_only_fields = ["id", "email"]


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. Shown in this response only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
