"""A PDF's text layer → lines, for the notice parser (the .pdf reader of sources.py).

A PDF says where each character is drawn, not in what order it is read: a word processor writes
the “ ” quotes of a Chinese sentence in a Latin font, apart from the characters around them, and
extractors that follow the file's order put them before the sentence. pdfminer.six gives every
character with its position; this module rebuilds the lines by baseline, left to right, drops the
page numbers, and names a scan without a text layer for what it is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import LedgerError
from toolkit.ledger.notice import Line

_PAGE_NUMBER = re.compile(r"^[-－—–·\s]*\d{1,3}[-－—–·\s]*$")


def _page_lines(chars: list[Any]) -> list[str]:
    """Characters → lines by their baseline, left to right. Ordering by position rather than by the
    order in the file puts back the “ ” quotes a word processor writes in a Latin font apart."""
    chars = sorted(chars, key=lambda c: (-round(c.matrix[5], 1), c.matrix[4]))
    lines: list[list[Any]] = []
    for char in chars:
        if lines and abs(lines[-1][0].matrix[5] - char.matrix[5]) <= max(2.0, 0.3 * char.size):
            lines[-1].append(char)
        else:
            lines.append([char])
    texts = []
    for line in lines:
        line.sort(key=lambda c: c.matrix[4])
        pieces = [line[0].get_text()]
        for before, char in zip(line, line[1:], strict=False):
            text = char.get_text()
            if char.x0 - before.x1 > 0.25 * char.size and not (text.isspace() or pieces[-1].isspace()):
                pieces.append(" ")
            pieces.append(text)
        texts.append("".join(pieces))
    # A bare number alone at the top or bottom of a page is its page number, not text.
    while texts and _PAGE_NUMBER.match(texts[-1]):
        texts.pop()
    while texts and _PAGE_NUMBER.match(texts[0]):
        texts.pop(0)
    return texts


def _chars(item: Any) -> Iterator[Any]:
    from pdfminer.layout import LTChar

    if isinstance(item, LTChar):
        yield item
    elif hasattr(item, "__iter__"):
        for child in item:
            yield from _chars(child)


def read_pdf(path: Path, data: bytes) -> list[Line]:
    """The PDF's text layer, page by page (第3页); a scan without one is a LedgerError."""
    from pdfminer.high_level import extract_pages
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    found: list[Line] = []
    try:
        for number, page in enumerate(extract_pages(io.BytesIO(data), laparams=None), start=1):
            found += [Line(text, f"第{number}页") for text in _page_lines(list(_chars(page)))]
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise LedgerError(f"PDF 文件 {path.name} 有打开密码，无法读取：请取得无密码的文件后再导入") from exc
    except (PDFSyntaxError, ValueError, TypeError, KeyError) as exc:
        raise LedgerError(f"无法读取 PDF 文件 {path.name}：{exc}。请确认文件完整") from exc
    if not any(line.text.strip() for line in found):
        raise LedgerError(
            f"PDF 文件 {path.name} 无法识别任务：扫描件无文字层（只有页面图片，没有可复制的文字）。"
            "请向发文单位索取 Word 版或可复制文字的 PDF，或把通知内容另存为 .txt 后导入"
        )
    return found
