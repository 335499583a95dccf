"""gridfield's sync API: the names of :mod:`gridfield`, used without ``await``.

A name starting ``Async`` there drops the prefix here (``AsyncFileStore`` is ``FileStore``).

Generated from the async source. ``FileField`` here is also a drop-in for MongoEngine's
own on a plain ``mongoengine.Document`` after ``mongoengine.connect(...)``.
"""

from ._sync import *  # noqa: F403
from ._sync import __all__ as __all__
