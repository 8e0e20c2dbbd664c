"""Sign and verify the hidden _meta sheet that tells the merge who sent a file.

A unit's workbook may come back under any name, so identity travels inside it: the unit, period,
and a hash of every issued task, signed with HMAC-SHA256 under a workspace secret that never
leaves the bureau's PC. An edited _meta (another unit's name, another quarter) fails verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from toolkit.forms.layout import META_KEYS, META_SIGNATURE_KEY


def load_secret(path: Path) -> bytes:
    """The workspace secret, created on first use (the file is git-ignored)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        # Readable by the clerk only: whoever holds it can forge any unit's signature.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        tmp.replace(path)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def task_hash(content: str, leaders: str, role: str) -> str:
    """A short fingerprint of the locked cells of one issued row."""
    data = "\x1f".join((content, leaders, role)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def canonical(fields: dict[str, str]) -> bytes:
    """The signed bytes: the META_KEYS values, in order, as JSON."""
    return json.dumps([[k, str(fields.get(k, ""))] for k in META_KEYS], ensure_ascii=False).encode("utf-8")


def sign(fields: dict[str, str], secret: bytes) -> str:
    return hmac.new(secret, canonical(fields), hashlib.sha256).hexdigest()


def verify(fields: dict[str, str], secret: bytes) -> bool:
    """True when the signature matches the other fields exactly."""
    signature = str(fields.get(META_SIGNATURE_KEY, ""))
    return hmac.compare_digest(signature, sign(fields, secret))
