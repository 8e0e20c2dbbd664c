"""The master ledger as last loaded, kept between runs so a command need not read it again.

Every command starts by loading master_ledger.xlsx: reading each sheet with calamine and checking
every cell took 0.28 s at 1,000 units and 2.1 s at 10,000, for a file the clerk changes a few
times a year, and at 10,000 units the reading left ~40 MB more behind in the process than the
ledger itself holds. So the ledger of a clean check is kept, pickled, in the workspace under a
key of everything the check depends on: the file's bytes (SHA-256), the year it is checked for,
ducha's own source, and the versions of Python and of the libraries it reads with. Any change
gives a new key, and the next load reads the file in full. A ledger with errors is never kept:
it is checked, and refused with its messages, every time.

Loading a pickle can run code, so the cache is signed with the workspace secret (HMAC-SHA256):
one whose signature does not verify (edited, truncated, written by anyone without the secret)
is passed over unread, and a workspace without a secret keeps none.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import pickle
import sys
from pathlib import Path

import chinese_calendar
import python_calamine._python_calamine as _python_calamine
from chinese_calendar import constants as chinese_constants

import toolkit
from toolkit.config import Config
from toolkit.fsutil import write_atomic
from toolkit.model import Ledger

_MAGIC = b"DUCHA-LEDGER-1\n"
_READ_WITH = (_python_calamine, chinese_constants)  # the modules the check reads a ledger with


@functools.cache
def source_digest() -> str:
    """A digest of ducha's own code (once per process): another version may answer differently."""
    digest = hashlib.sha256(toolkit.__version__.encode())
    for path in sorted(Path(toolkit.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def _versions() -> tuple[object, ...] | None:
    """Python's version and the readers' code as installed: each reader's module file, its size
    and time (an upgrade replaces it), and chinese-calendar's version (importlib.metadata took
    65 ms a run to say the same). None where a file cannot be told (a frozen build): then nothing
    is kept, as a key without them could outlive an upgrade."""
    files = [getattr(module, "__file__", None) for module in _READ_WITH]
    try:
        stats = [Path(name).stat() for name in files if name]
    except OSError:
        return None
    if len(stats) < len(files):
        return None
    return (sys.version, chinese_calendar.__version__,
            *((name, stat.st_size, stat.st_mtime_ns) for name, stat in zip(files, stats, strict=True)))


def _key(data: bytes, year: int | None) -> bytes:
    return hashlib.sha256(repr((hashlib.sha256(data).hexdigest(), year, source_digest(), _versions())).encode()).digest()


def _secret(config: Config) -> bytes | None:
    """The HMAC key: the secret file's bytes; None (keep nothing) without one or without versions."""
    if _versions() is None:
        return None
    try:
        return config.paths.secret.read_bytes() or None
    except OSError:
        return None


def kept(config: Config, data: bytes, year: int | None) -> Ledger | None:
    """The ledger kept for a file of these bytes checked for year, or None (nothing kept for them,
    no secret, or a cache that does not verify)."""
    secret = _secret(config)
    if secret is None:
        return None
    try:
        cached = config.paths.ledger_cache.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC)
    view = memoryview(cached)  # slices of a 23 MB cache (10,000 units) without copies
    signature, key, pickled = view[head:head + 32], view[head + 32:head + 64], view[head + 64:]
    if not cached.startswith(_MAGIC) or key != _key(data, year):
        return None
    if not hmac.compare_digest(signature, _sign(secret, key, pickled)):
        return None
    try:
        ledger = pickle.loads(pickled)
    except Exception:  # noqa: BLE001 — signed by us, yet unreadable (another Python): read the file
        return None
    return ledger if isinstance(ledger, Ledger) else None


def keep(config: Config, data: bytes, year: int | None, ledger: Ledger) -> None:
    """Keep a cleanly checked ledger for the next load; nothing when the workspace has no secret or
    the cache cannot be written (a read-only folder): the next load reads the file again."""
    secret = _secret(config)
    if secret is None:
        return
    key = _key(data, year)
    pickled = pickle.dumps(ledger, protocol=pickle.HIGHEST_PROTOCOL)
    parts = (_MAGIC, _sign(secret, key, pickled), key, pickled)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.writelines(parts)

    with contextlib.suppress(OSError):
        write_atomic(config.paths.ledger_cache, write, flush=False)


def _sign(secret: bytes, key: bytes | memoryview, pickled: bytes | memoryview) -> bytes:
    signer = hmac.new(secret, key, hashlib.sha256)
    signer.update(pickled)
    return signer.digest()
