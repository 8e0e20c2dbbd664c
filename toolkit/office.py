"""LibreOffice and poppler as printers: a workbook or a Word file → PDF → one PNG a page.

A clerk and a leader see printed pages, not XML, so the project checks its workbooks, receipts and
通报 the way they will be seen: opened and printed by a real office suite. Every run gets a fresh
LibreOffice profile in a temporary folder, so it never touches (or waits on) the user's own
LibreOffice, and a missing tool is a clear Chinese message instead of a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from toolkit.errors import DuchaError

OFFICE_NAMES = ("soffice", "libreoffice")
CONVERT_TIMEOUT = 240  # seconds; a cold LibreOffice start on a slow office PC takes a minute


def find_office() -> str:
    """The LibreOffice program, or a DuchaError saying how to get one."""
    for name in OFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise DuchaError("需要 LibreOffice（soffice）但本机未找到。请安装 LibreOffice（Debian/Ubuntu：apt install "
                     "libreoffice-calc-nogui libreoffice-writer-nogui），或把 soffice 所在目录加入 PATH")


def _fontconfig(folder: Path, fonts: dict[str, str]) -> dict[str, str]:
    """The environment for a LibreOffice run in which each font family named in `fonts` that is not
    installed prints as its fallback (fontconfig <accept>: an installed family still wins)."""
    rules = "".join(f"<alias binding=\"same\"><family>{escape(name)}</family><accept><family>{escape(fallback)}"
                    f"</family></accept></alias>" for name, fallback in fonts.items())
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include>{rules}</fontconfig>', "utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def convert(source: Path, target: str, outdir: Path, fonts: dict[str, str] | None = None) -> Path:
    """source converted by LibreOffice to target (pdf, xlsx, ods, xls, docx…) in outdir; returns
    the new file. A filter may follow the extension as LibreOffice spells it ("xlsx:Calc MS Excel
    2007 XML"). fonts: {family the file names: installed family to print it with where it is missing}."""
    office = find_office()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ducha-lo-") as profile:
        env = _fontconfig(Path(profile), fonts) if fonts else None
        done = subprocess.run(
            [office, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", target,
             "--outdir", str(outdir), str(source)],
            capture_output=True, timeout=CONVERT_TIMEOUT, check=False, env=env,
        )
    made = outdir / f"{source.stem}.{target.split(':', 1)[0]}"
    if done.returncode != 0 or not made.exists():
        detail = (done.stderr or done.stdout).decode(errors="replace").strip()[-300:]
        raise DuchaError(f"LibreOffice 未能把 {source.name} 转换为 {target}：{detail or '无输出'}")
    return made


def pdf_pages(pdf: Path, outdir: Path, dpi: int = 80, first: int = 1, last: int | None = None) -> list[Path]:
    """The pages of a PDF as PNG files (poppler's pdftoppm), in page order."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise DuchaError("需要 pdftoppm（poppler-utils）把 PDF 转为图片，但本机未找到")
    outdir.mkdir(parents=True, exist_ok=True)
    prefix = outdir / pdf.stem
    command = [tool, "-png", "-r", str(dpi), "-f", str(first)] + (["-l", str(last)] if last else [])
    subprocess.run([*command, str(pdf), str(prefix)], check=True, capture_output=True, timeout=CONVERT_TIMEOUT)
    return sorted(outdir.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def page_count(pdf: Path) -> int:
    """Pages in a PDF, as poppler's pdfinfo reads them."""
    tool = shutil.which("pdfinfo")
    if tool is None:
        raise DuchaError("需要 pdfinfo（poppler-utils）读取 PDF 页数，但本机未找到")
    info = subprocess.run([tool, str(pdf)], check=True, capture_output=True, timeout=60).stdout.decode()
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    raise DuchaError(f"pdfinfo 未给出 {pdf.name} 的页数")
