"""Key files of the command line: what they hold, and the refusals that name the line at
fault and never the key."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridfield.cli.keys import parse_keys
from gridfield.core.encryption import LocalKeys

KEY_IDS = st.text(
    st.characters(codec="ascii", categories=["L", "N"], include_characters="-_."),
    min_size=1,
    max_size=12,
)


@given(st.dictionaries(KEY_IDS, st.binary(min_size=32, max_size=32), min_size=1, max_size=5))
def test_every_key_is_read_and_the_last_one_wraps(keys: dict[str, bytes]) -> None:
    text = "# keys\n\n" + "".join(f"{k}:{base64.b64encode(v).decode()}\n" for k, v in keys.items())
    ring = parse_keys(text, "keys.txt").keys
    assert isinstance(ring, LocalKeys)
    assert ring.key_ids == list(keys)
    assert ring.current == list(keys)[-1]
    # The keys are the ones written: a data key wrapped by the ring opens with them.
    data_key = os.urandom(32)
    again = LocalKeys(keys, current=ring.current)
    assert again.unwrap(ring.wrap(data_key)) == data_key


KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "keys.txt holds no key"),
        ("# only a comment\n", "keys.txt holds no key"),
        (KEY + "\n", "line 1: write KEYID:KEY"),
        (f":{KEY}\n", "line 1: write KEYID:KEY"),
        ("a:not base64!\n", "line 1: key 'a' is not base64"),
        (f"a:{base64.b64encode(b'short').decode()}\n", "key 'a' is 5 bytes, not 32"),
        (f"a:{KEY}\n\na:{KEY}\n", "line 3: key 'a' is given twice"),
    ],
)
def test_a_bad_key_file_names_the_line_and_never_the_key(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as refused:
        parse_keys(text, "keys.txt")
    assert KEY not in str(refused.value)
