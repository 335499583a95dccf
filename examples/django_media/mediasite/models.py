"""Rows that point at files: FileField values are names in the default storage."""

from django.db import models


class Attachment(models.Model):  # type: ignore[misc]  # Django has no type hints
    """A title and a file."""

    title = models.CharField(max_length=100)
    document = models.FileField(upload_to="attachments/%Y/")
