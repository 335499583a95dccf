"""Django's URL configuration for the tests: filled by apps.django_app once the store exists."""

from typing import Any

urlpatterns: list[Any] = []
