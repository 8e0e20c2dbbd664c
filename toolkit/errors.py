"""Exceptions the CLI turns into a Chinese message and exit code 1.

Problems inside a unit's returned file are never exceptions (see problems.py); these are for
conditions that stop a whole command: a broken ledger, a missing folder, a held lock.
"""


class DuchaError(Exception):
    """A data or runtime problem the clerk can fix; the message is Chinese and says how."""


class LedgerError(DuchaError):
    """The master ledger is missing or fails its check."""


class ConfigError(DuchaError):
    """ducha.toml cannot be read or holds a bad value."""


class BusyError(DuchaError):
    """Another ducha run holds the workspace lock."""


class InputError(DuchaError):
    """What the clerk typed on the command line names nothing ducha knows (a unit not in the
    单位名录): the CLI shows it as a usage error (exit 2), with the closest names it does know."""
