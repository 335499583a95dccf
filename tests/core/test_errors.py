"""The error types: MongoEngine's GridFSError as base, PyMongo's gridfs errors too."""

import pickle

import gridfs.errors
import mongoengine.fields
import pymongo.errors
import pytest

from gridfield.core.errors import CorruptFile, FileExists, GridFSError, NoFile


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (NoFile, gridfs.errors.NoFile),
        (CorruptFile, gridfs.errors.CorruptGridFile),
        (FileExists, gridfs.errors.FileExists),
    ],
)
def test_each_error_is_both_families(ours: type[Exception], theirs: type[Exception]) -> None:
    err = ours("file 1: chunk 2 is missing")
    assert isinstance(err, GridFSError)
    assert isinstance(err, mongoengine.fields.GridFSError)
    assert isinstance(err, theirs)
    assert isinstance(err, gridfs.errors.GridFSError)
    assert isinstance(err, pymongo.errors.PyMongoError)
    assert str(err) == "file 1: chunk 2 is missing"
    assert not err.has_error_label("anything")  # type: ignore[attr-defined]


def test_base_is_mongoengines() -> None:
    assert GridFSError is mongoengine.fields.GridFSError


def test_errors_pickle() -> None:
    err = pickle.loads(pickle.dumps(CorruptFile("file 7: extra chunk 3")))
    assert type(err) is CorruptFile
    assert str(err) == "file 7: extra chunk 3"


def test_caught_by_pymongo_style_code() -> None:
    with pytest.raises(gridfs.errors.NoFile):
        raise NoFile("no file with id 1")
