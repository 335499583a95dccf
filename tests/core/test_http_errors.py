"""Which answer each gridfield error raised in a route gets, and the form fields' missing key."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from gridfield.core.errors import (
    ContentTypeRefused,
    CorruptFile,
    FileExpired,
    FileTooLarge,
    FormTooLarge,
    MalformedBody,
    MissingField,
    NoFile,
)
from gridfield.core.http.errors import ANSWERED_ERRORS, error_answer
from gridfield.core.http.intake import FormFields


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (FileTooLarge("over 10 bytes", limit=10, seen=11), 413, "over 10 bytes\n"),
        (FormTooLarge("too many parts", limit=1, seen=2), 413, "too many parts\n"),
        (ContentTypeRefused("text/html is refused"), 415, "text/html is refused\n"),
        (MalformedBody("no boundary"), 400, "no boundary\n"),
        (MissingField("no form field 'title'"), 400, "no form field 'title'\n"),
        (NoFile("file 1 in secret_db.fs.files"), 404, "Not Found: no such file\n"),
        (
            FileExpired("file 1 expired", expire_at=datetime.now(timezone.utc)),
            410,
            "Gone: the file has expired\n",
        ),
        (CorruptFile("file 1: chunk 2 is missing"), 500, "Internal Server Error\n"),
    ],
)
def test_each_error_has_its_answer(error: Exception, status: int, text: str) -> None:
    answer = error_answer(error)
    assert answer is not None and (answer.status, answer.text) == (status, text)
    assert isinstance(error, ANSWERED_ERRORS)


def test_other_errors_are_not_answered() -> None:
    assert error_answer(KeyError("x")) is None
    assert error_answer(ValueError("x")) is None


def test_a_corrupt_file_is_logged_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gridfield.web"):
        answer = error_answer(CorruptFile("file 7: chunk 3 is missing"))
    assert answer is not None and "chunk" not in answer.text
    assert "file 7: chunk 3 is missing" in caplog.text


def test_a_missing_form_field_names_what_came() -> None:
    form = FormFields.of([("a", "1"), ("b", "2"), ("a", "3")])
    assert form == {"a": "1", "b": "2"}
    assert form.get("c") is None and "c" not in form
    with pytest.raises(MissingField) as caught:
        form["c"]
    assert str(caught.value) == "no form field 'c' (fields came in: ['a', 'b'])"
    assert isinstance(caught.value, KeyError)
