from __future__ import annotations

import pytest

from sellers.models import MemberRole
from tests.factories import SellerMemberFactory


@pytest.fixture
def owner(db):
    return SellerMemberFactory(role=MemberRole.OWNER)


@pytest.fixture
def other_owner(db):
    """An owner of a different shop: its ids must never be reachable from `owner`'s session."""
    return SellerMemberFactory(role=MemberRole.OWNER)


@pytest.fixture
def portal_client(client):
    def sign_in(membership):
        client.force_login(membership.user)
        return client

    return sign_in
