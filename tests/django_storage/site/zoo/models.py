"""A model with a FileField and an ImageField on the default storage (GridFSStorage)."""

from django.db import models


class Animal(models.Model):
    name = models.CharField(max_length=100)
    document = models.FileField(upload_to="docs/")
    photo = models.ImageField(upload_to="photos/", blank=True)

    def __str__(self) -> str:
        return self.name
