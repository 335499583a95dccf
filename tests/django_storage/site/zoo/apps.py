"""The zoo app: its files are deleted with its rows, and when replaced."""

from django.apps import AppConfig


class ZooConfig(AppConfig):
    name = "tests.django_storage.site.zoo"
    label = "zoo"

    def ready(self) -> None:
        from gridfield.django import keep_files_in_step

        from .models import Animal

        keep_files_in_step(Animal)
