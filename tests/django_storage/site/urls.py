"""The admin, and the stored files where ``url()`` points."""

from django.contrib import admin
from django.core.files.storage import default_storage
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("media/<path:name>", default_storage.view()),
]
