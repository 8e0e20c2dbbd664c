"""The workspace secret and the _meta signature."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from toolkit.forms import meta
from toolkit.forms.layout import META_SIGNATURE_KEY


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_secret_is_created_once_and_readable_by_the_clerk_only(tmp_path) -> None:
    path = tmp_path / "ws" / ".ducha_secret"
    first = meta.load_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert meta.load_secret(path) == first


def test_any_edited_field_breaks_the_signature() -> None:
    secret = bytes(range(32))
    fields = {"unit": "市商务局", "period": "2024Q1", "deadline": "2024-03-28", "template_version": "1",
              "generated_at": "2024-03-07T08:00:00", "tasks": "[[4, \"牵头\", \"ab\"]]", "indicators": "[]"}
    signed = {**fields, META_SIGNATURE_KEY: meta.sign(fields, secret)}
    assert meta.verify(signed, secret)
    for key in fields:
        assert not meta.verify({**signed, key: signed[key] + "x"}, secret), key
    assert not meta.verify(signed, bytes(32))
