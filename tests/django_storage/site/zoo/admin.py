"""The admin's change list shows the files, linked to their url()."""

from django.contrib import admin

from .models import Animal


@admin.register(Animal)
class AnimalAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "document", "photo")
