"""Members: invite (existing user or emailed invitation), change role, remove, last owner kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sellers.models import MemberRole, SellerInvitation, SellerMember
from tests.factories import SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_inviting_an_existing_user_adds_them(owner, portal_client):
    user = UserFactory(email="helper@example.com")
    response = portal_client(owner).post(
        reverse("portal:members"), {"email": "Helper@Example.com", "role": "fulfilment"}
    )
    assert response.status_code == 302
    member = SellerMember.objects.get(seller=owner.seller, user=user)
    assert member.role == MemberRole.FULFILMENT


def test_inviting_a_stranger_emails_a_link_that_makes_them_a_member(
    owner, portal_client, client, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        portal_client(owner).post(
            reverse("portal:members"), {"email": "new@example.com", "role": "manager"}
        )
    invitation = SellerInvitation.objects.get(seller=owner.seller)
    assert [m.to for m in mailoutbox] == [["new@example.com"]]
    link = reverse("portal:invitation_accept", kwargs={"token": invitation.token})
    assert link in mailoutbox[0].body

    intruder = UserFactory(email="someone-else@example.com")
    client.force_login(intruder)
    assert client.post(link).status_code == 404
    assert not SellerMember.objects.filter(user=intruder).exists()

    newcomer = UserFactory(email="new@example.com")
    client.force_login(newcomer)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert SellerMember.objects.get(user=newcomer).role == MemberRole.MANAGER
    assert client.post(link).status_code == 404


def test_invite_errors_are_shown_next_to_the_field(owner, portal_client):
    response = portal_client(owner).post(
        reverse("portal:members"), {"email": owner.user.email, "role": "manager"}
    )
    assert response.status_code == 400
    assert b"Already a member." in response.content
    bad = portal_client(owner).post(reverse("portal:members"), {"email": "nope", "role": "king"})
    assert bad.status_code == 400
    assert b"Enter a valid email address." in bad.content
    assert SellerInvitation.objects.count() == 0


def test_owner_changes_a_role_and_removes_a_member(owner, portal_client):
    manager = SellerMemberFactory(seller=owner.seller, role=MemberRole.MANAGER)
    client = portal_client(owner)
    client.post(reverse("portal:member_role", args=[manager.pk]), {"role": "fulfilment"})
    manager.refresh_from_db()
    assert manager.role == MemberRole.FULFILMENT
    client.post(reverse("portal:member_remove", args=[manager.pk]))
    assert not SellerMember.objects.filter(pk=manager.pk).exists()


def test_last_owner_can_be_neither_removed_nor_demoted(owner, portal_client):
    client = portal_client(owner)
    response = client.post(reverse("portal:member_remove", args=[owner.pk]), follow=True)
    assert b"at least one owner" in response.content
    client.post(reverse("portal:member_role", args=[owner.pk]), {"role": "manager"})
    owner.refresh_from_db()
    assert owner.role == MemberRole.OWNER
    assert SellerMember.objects.filter(pk=owner.pk).exists()


def test_another_sellers_members_are_404(owner, other_owner, portal_client):
    client = portal_client(owner)
    assert client.post(reverse("portal:member_remove", args=[other_owner.pk])).status_code == 404
    response = client.post(
        reverse("portal:member_role", args=[other_owner.pk]), {"role": "manager"}
    )
    assert response.status_code == 404
    other_owner.refresh_from_db()
    assert other_owner.role == MemberRole.OWNER


def test_manager_cannot_remove_or_promote(portal_client):
    manager = SellerMemberFactory(role=MemberRole.MANAGER)
    owner = SellerMemberFactory(seller=manager.seller, role=MemberRole.OWNER)
    client = portal_client(manager)
    assert client.post(reverse("portal:member_remove", args=[owner.pk])).status_code == 403
    client.post(reverse("portal:member_role", args=[manager.pk]), {"role": "owner"})
    manager.refresh_from_db()
    assert manager.role == MemberRole.MANAGER
