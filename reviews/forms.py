"""Storefront and portal forms: they parse input; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from reviews.models import ReportReason
from reviews.services import BODY_MAX, MAX_PHOTOS, NOTE_MAX, QUESTION_MAX, REPLY_MAX, TITLE_MAX

STAR_CHOICES = [(n, f"{n} star{'s' if n > 1 else ''}") for n in (5, 4, 3, 2, 1)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect)
    title = forms.CharField(max_length=TITLE_MAX, required=False)
    body = forms.CharField(
        max_length=BODY_MAX, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    photos = MultiplePhotoField(
        required=False, help_text=f"Up to {MAX_PHOTOS} photos (JPEG, PNG or WebP)."
    )
    remove_photos = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, photos: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        remove = self.fields["remove_photos"]
        assert isinstance(remove, forms.TypedMultipleChoiceField)
        remove.choices = [(p.pk, f"Photo {i + 1}") for i, p in enumerate(photos or [])]
        if not photos:
            del self.fields["remove_photos"]


class SellerRatingForm(forms.Form):
    shipping_speed = forms.TypedChoiceField(
        choices=STAR_CHOICES, coerce=int, label="Shipping speed"
    )
    item_as_described = forms.TypedChoiceField(
        choices=STAR_CHOICES, coerce=int, label="Item as described"
    )
    communication = forms.TypedChoiceField(choices=STAR_CHOICES, coerce=int)
    comment = forms.CharField(
        max_length=BODY_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class QuestionForm(forms.Form):
    body = forms.CharField(
        max_length=QUESTION_MAX, label="Your question", widget=forms.Textarea(attrs={"rows": 3})
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        max_length=QUESTION_MAX, label="Your answer", widget=forms.Textarea(attrs={"rows": 3})
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=REPLY_MAX, label="Public reply", widget=forms.Textarea(attrs={"rows": 3})
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=ReportReason.choices)
    note = forms.CharField(max_length=NOTE_MAX, required=False)
