"""The Django app the upload tests drive: views that receive files through gridfield's upload
handler (from the settings, or put in place per view), and one on Django's own handlers."""

from __future__ import annotations

import hashlib
from typing import Any

from . import apps


def _described(upload: Any) -> dict[str, Any]:
    # Read back through Django's File API: what a form or a validator would do.
    digest = hashlib.sha256()
    for piece in upload.chunks():
        digest.update(piece)
    return {
        "id": str(getattr(upload, "file_id", "")),
        "name": upload.name,
        "size": upload.size,
        "content_type": upload.content_type,
        "sha256": digest.hexdigest(),
        "class": type(upload).__name__,
    }


def django_upload_app(*, csrf: bool = False) -> Any:
    """The WSGI app; its upload views store into the DJANGO_UPLOADS_ALIAS connection. With
    ``csrf``, Django's CsrfViewMiddleware runs after gridfield's (and reads the body before
    any view)."""
    from django import forms
    from django.core.files.uploadhandler import (
        MemoryFileUploadHandler,
        TemporaryFileUploadHandler,
    )
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path

    import gridfield.sync
    from gridfield.web.django_uploads import GridFSUploadHandler

    from . import django_urls

    apps.configure_django()

    def store() -> gridfield.sync.FileStore:
        return gridfield.sync.FileStore(gridfield.sync.get_db(apps.DJANGO_UPLOADS_ALIAS))

    def echo(request: HttpRequest) -> JsonResponse:
        files = {
            name: [_described(f) for f in request.FILES.getlist(name)] for name in request.FILES
        }
        fields = {name: request.POST.getlist(name) for name in request.POST}
        return JsonResponse({"files": files, "fields": fields})

    def big(request: HttpRequest) -> JsonResponse:
        # Per view: this handler first, with its own limit; Django's own stay behind it.
        request.upload_handlers.insert(0, GridFSUploadHandler(request, max_size=100 * 2**20))
        return echo(request)

    def images(request: HttpRequest) -> JsonResponse:
        request.upload_handlers  # noqa: B018  the settings' handlers made, then replaced
        request.upload_handlers = [GridFSUploadHandler(request, content_types=["image/*"])]
        return echo(request)

    def fail(request: HttpRequest) -> HttpResponse:
        stored = len(request.FILES)
        raise RuntimeError(f"the view failed after {stored} file(s) were stored")

    def view_too_large(request: HttpRequest) -> HttpResponse:
        store().put(b"0123456789", max_size=5)  # FileTooLarge, out of the view
        return HttpResponse("not reached")

    class PhotoForm(forms.Form):
        title = forms.CharField(max_length=20)
        photo = forms.ImageField()

    def form(request: HttpRequest) -> JsonResponse:
        bound = PhotoForm(request.POST, request.FILES)
        if not bound.is_valid():
            return JsonResponse({"errors": bound.errors}, status=400)
        photo = bound.cleaned_data["photo"]
        return JsonResponse({"photo": _described(photo), "width": photo.image.width})

    def default(request: HttpRequest) -> JsonResponse:
        # Django's own handlers (memory, then a temporary file), then a copy into GridFS.
        request.upload_handlers = [
            MemoryFileUploadHandler(request),
            TemporaryFileUploadHandler(request),
        ]
        upload = request.FILES["f"]
        file_id = store().upload_from_stream(upload.name, upload)
        return JsonResponse({"id": str(file_id), "class": type(upload).__name__})

    django_urls.uploads[:] = [
        path("up/echo", echo),
        path("up/big", big),
        path("up/images", images),
        path("up/fail", fail),
        path("up/view-too-large", view_too_large),
        path("up/form", form),
        path("up/default", default),
    ]
    django_urls.publish()
    if not csrf:
        return WSGIHandler()
    from django.test import override_settings

    ours = "gridfield.web.django_uploads.GridFSUploadMiddleware"
    with override_settings(MIDDLEWARE=[ours, "django.middleware.csrf.CsrfViewMiddleware"]):
        return WSGIHandler()  # its middleware chain is built now, from these settings
