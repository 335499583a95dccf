"""Settings of the example project: SQLite rows, files in MEDIA_ROOT or in GridFS.

``MEDIA_STORAGE=gridfs`` in the environment makes the GridFS bucket the default storage
(what the site runs on once its files are moved); anything else keeps FileSystemStorage.
"""

import os
from pathlib import Path

HERE = Path(os.environ.get("MEDIASITE_DATA", Path(__file__).resolve().parent.parent))

SECRET_KEY = "example only"
DEBUG = True
USE_TZ = True
INSTALLED_APPS = ["gridfield.django_media", "mediasite"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": HERE / "rows.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MEDIA_ROOT = HERE / "media"
MEDIA_URL = "/media/"

_GRIDFS = {
    "BACKEND": "gridfield.django.GridFSStorage",
    "OPTIONS": {
        "uri": os.environ.get("MONGODB_URI", "mongodb://localhost:27017"),
        "db": os.environ.get("MEDIASITE_DB", "mediasite"),
    },
}
_FILES = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _GRIDFS if os.environ.get("MEDIA_STORAGE") == "gridfs" else _FILES,
    "gridfs": _GRIDFS,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
