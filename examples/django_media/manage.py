"""A Django project whose rows point at files in MEDIA_ROOT, moved into GridFS and back with
``python manage.py gridfs_media in|out`` (see docs/copy.md)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediasite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
