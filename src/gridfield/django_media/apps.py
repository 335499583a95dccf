"""The app's configuration."""

from django.apps import AppConfig


class DjangoMediaConfig(AppConfig):  # type: ignore[misc]  # Django has no type hints
    """``gridfield.django_media``: the ``gridfs_media`` command."""

    name = "gridfield.django_media"
    label = "gridfield_media"
    verbose_name = "GridFS media"
