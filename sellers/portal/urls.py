from django.urls import path

from sellers.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch, name="switch"),
    path("members/", views.members, name="members"),
    path("members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", views.member_delete, name="member_remove"),
    path("invitations/<str:token>/", views.invitation, name="invitation_accept"),
]
