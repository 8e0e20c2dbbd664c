"""Cell formats made once per process for fastxlsx.Book: same styles, less work.

Every unit workbook, receipt and 汇总表 makes the same dozen formats; xlsxwriter sets each one
property by property and, as it writes styles.xml, finds its style index, font, border and fill
by keys joined from ~40 properties, in every workbook. A format of the same properties as one made
before in this process is copied from it (made_format) and looks those keys up (MadeFormat).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format

from toolkit.xlsxparts import CACHED_ENTRIES

_MADE_FORMATS: dict[str, dict[str, Any]] = {}
_FORMAT_KEYS: dict[tuple[str, str], str] = {}  # (properties, which key) → the key, see MadeFormat


class MadeFormat(Format):
    """A format copied from one made before in this process (Book.add_format). xlsxwriter finds a
    format's style index, font, border and fill by keys it joins from ~40 of its properties, in
    every workbook (~0.3 ms of each unit workbook); a copy looks them up under the properties it
    was made from, until anything changes it (set_bold and the like): then it is a plain format."""

    # What xlsxwriter itself records on a format as it writes a workbook: none of them is a property.
    _BOOKKEEPING = frozenset(("xf_index", "dxf_index", "_format_key", "font_index", "has_font", "num_format_index",
                              "border_index", "has_border", "fill_index", "has_fill", "has_dxf_font",
                              "has_dxf_border", "has_dxf_fill", "_made_as"))

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in MadeFormat._BOOKKEEPING:
            object.__setattr__(self, "_made_as", None)
        object.__setattr__(self, name, value)

    def _keyed(self, which: str, make: Any) -> str:
        made_as = self._made_as
        if made_as is None:
            return make(self)
        key = _FORMAT_KEYS.get((made_as, which))
        if key is None:
            if len(_FORMAT_KEYS) >= 8 * CACHED_ENTRIES:
                _FORMAT_KEYS.clear()
            key = _FORMAT_KEYS[made_as, which] = make(self)
        return key

    def _get_format_key(self) -> str:
        return self._keyed("format", Format._get_format_key)

    def _get_font_key(self) -> str:
        return self._keyed("font", Format._get_font_key)

    def _get_border_key(self) -> str:
        return self._keyed("border", Format._get_border_key)

    def _get_fill_key(self) -> str:
        return self._keyed("fill", Format._get_fill_key)

    def _get_alignment_key(self) -> str:
        return self._keyed("alignment", Format._get_alignment_key)


def made_format(book: xlsxwriter.Workbook, properties: dict[str, Any] | None,
                make: Callable[[dict[str, Any] | None], Format]) -> Format:
    """book's new format of these properties: made by make (xlsxwriter's add_format) the first
    time they are seen in this process, copied from that one after (colours shared, see
    xlsxparts._Styles)."""
    given = book.default_format_properties | (properties or {})
    key = repr(list(given.items()))  # in order: a later property may override an earlier one
    made = _MADE_FORMATS.get(key)
    if made is None:
        fmt = make(properties)
        if " at 0x" not in key:
            if len(_MADE_FORMATS) >= CACHED_ENTRIES:
                _MADE_FORMATS.clear()
            _MADE_FORMATS[key] = dict(vars(fmt))
        return fmt
    fmt = MadeFormat.__new__(MadeFormat)
    vars(fmt).update(made, xf_format_indices=book.xf_format_indices, dxf_format_indices=book.dxf_format_indices,
                     _made_as=key)
    book.formats.append(fmt)
    return fmt
