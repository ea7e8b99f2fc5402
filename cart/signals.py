"""Sign-in merges the anonymous cart into the user's cart (the rule is in the service)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from cart.owner import SESSION_CART_KEY
from cart.services import cart_merge_on_login


@receiver(user_logged_in, dispatch_uid="cart_merge_on_login")
def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.pop(SESSION_CART_KEY, "")
    if not key:
        return
    for note in cart_merge_on_login(user=user, session_key=key):
        messages.warning(request, note, fail_silently=True)
