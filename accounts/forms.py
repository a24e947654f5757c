from django import forms

from accounts.models import User
from accounts.services import PROFILE_FIELDS


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = PROFILE_FIELDS
        widgets = {"legal_address": forms.Textarea(attrs={"rows": 3})}


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'CRM sync'.")
