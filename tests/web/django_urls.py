"""Django's URL configuration for the tests: filled by apps.django_app (serving),
apps.django_upload_app (uploads), signed_apps.django_app (signed URLs) and
error_apps.django_app (the ready error answers) once their stores exist."""

from typing import Any

serving: list[Any] = []
serving_sealed: list[Any] = []  # the same routes under sealed/, over an encrypting store
uploads: list[Any] = []
signed: list[Any] = []
errors: list[Any] = []
urlpatterns: list[Any] = []


def publish() -> None:
    """Route both apps' views (each replaces its own list), forgetting the old resolver."""
    from django.urls import clear_url_caches

    urlpatterns[:] = serving + serving_sealed + uploads + signed + errors
    clear_url_caches()
