"""A Django app with one management command, ``gridfs_media``: moves the files of
``MEDIA_ROOT`` into a ``GridFSStorage`` under the same names, and back.

Add ``"gridfield.django_media"`` to ``INSTALLED_APPS``; it needs the ``django`` extra
(``pip install "gridfield[django]"``).
"""

try:
    import django  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'gridfield.django_media needs Django: pip install "gridfield[django]"'
    ) from exc
