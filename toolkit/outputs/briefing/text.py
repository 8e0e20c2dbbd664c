"""Unit text and frame cells as the briefing prints them. Unit text is hostile until proven
otherwise (control characters, line breaks typed into Excel cells), and frame cells may be NaN;
the context and the praise/criticism rules share these few readers so both print alike.
"""

from __future__ import annotations

import re

import pandas as pd

# Characters XML 1.0 forbids: a unit's text with one would make a .docx Word refuses to open.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: object) -> str:
    """Unit text as one printable line: XML-illegal control characters dropped, whitespace runs
    (including line breaks typed into Excel cells) folded to one space."""
    text = "" if value is None else str(value)
    return " ".join(_XML_ILLEGAL.sub("", text).split())


def shorten(text: str, limit: int) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: object) -> float | None:
    """A frame cell as a float, NaN and None as None."""
    return None if value is None or pd.isna(value) else float(value)


def percent(value: object) -> str:
    found = number(value)
    return "—" if found is None else f"{found:g}%"
