from django.urls import path

from search.api import SearchView, SuggestView

urlpatterns = [
    path("search/", SearchView.as_view(), name="api-search"),
    path("search/suggest/", SuggestView.as_view(), name="api-search-suggest"),
]
