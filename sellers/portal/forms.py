from __future__ import annotations

from django import forms

from sellers.models import MemberRole


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.MANAGER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=MemberRole.choices)
