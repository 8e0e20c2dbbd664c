"""Pictures of the real outputs for docs/使用手册.md, printed the way a clerk will see them.

The manual shows a clerk who has never used a command line what each file looks like, so the
pictures must be of the files this version writes, not drawings: after `make demo` this prints
one unit's workbook, one receipt, 汇总表 and the 通报 with LibreOffice and turns their first pages
into PNG with pdftoppm. Rerun it whenever an output's look changes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from toolkit import office
from toolkit.outputs.briefing.publish import font_fallbacks
from toolkit.outputs.briefing.settings import BriefingSettings

# (picture name, file in the demo workspace, pages to keep)
SHOWN = (
    ("单位报表", "outbox/2024Q1/2024Q1_市工业和信息化局.xlsx", 2),
    ("回执", "reports/2024Q1/回执/2024Q1_市工业和信息化局_回执.xlsx", 1),
    ("汇总表", "reports/2024Q1/汇总表.xlsx", 1),
    ("通报", "reports/2024Q1/通报.docx", 2),
)
DPI = 60  # readable on a screen, small enough to keep in git
FONTS = font_fallbacks(BriefingSettings())  # printed as `ducha briefing --pdf` prints the 通报


def take_pictures(workspace: Path, outdir: Path) -> list[Path]:
    """PNG pages of the demo's outputs in outdir, named 手册-<picture>-<page>.png."""
    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory(prefix="ducha-pictures-") as scratch:
        for name, relative, pages in SHOWN:
            source = workspace / relative
            copy = Path(scratch) / f"手册-{name}{source.suffix}"
            shutil.copyfile(source, copy)  # the picture's name, and the original left untouched
            pdf = office.convert(copy, "pdf", Path(scratch) / "pdf", fonts=FONTS)
            for page in office.pdf_pages(pdf, Path(scratch) / "png", dpi=DPI, last=pages):
                target = outdir / page.name
                shutil.copyfile(page, target)
                made.append(target)
    return made
