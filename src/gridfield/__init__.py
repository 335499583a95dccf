"""gridfield: files in MongoDB's GridFS behind a field on a document, for async apps.

    from gridfield import connect, Document, FileField, StringField

    class Animal(Document):
        genus = StringField()
        photo = FileField()

    await marmot.photo.put(f, content_type="image/jpeg")
    await marmot.save()

The same API without ``await`` lives in :mod:`gridfield.sync`.
"""

from ._async import *  # noqa: F403
from ._async import __all__ as __all__

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, CHANGELOG.md names it
