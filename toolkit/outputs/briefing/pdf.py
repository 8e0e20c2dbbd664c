"""The HTML briefing (the screen version) in a headless Chromium-family browser, printed or read
back the way a reader's browser shows it. The official PDF is the Word file printed by LibreOffice
(publish.py); this is how the screen version is checked. The browser is optional, so a missing one
is a clear message, not a crash.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from toolkit.errors import DuchaError
from toolkit.fsutil import atomic_path
from toolkit.outputs.briefing.settings import BriefingSettings

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
PDF_TIMEOUT = 180  # seconds; a cold Chromium start on a slow office PC takes several


def find_browser(settings: BriefingSettings) -> str:
    """The Chromium-family browser to print with, or a DuchaError saying how to get one."""
    if settings.browser:
        found = shutil.which(settings.browser)
        if found or Path(settings.browser).is_file():
            return found or settings.browser
        raise DuchaError(f"找不到 ducha.toml [briefing] browser 指定的浏览器：{settings.browser}")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise DuchaError(
        "生成 PDF 需要 Chromium 浏览器，但本机未找到 chromium（也未找到 Chrome 或 Edge）。"
        "请安装 Chromium（Debian/Ubuntu：apt install chromium），或在 ducha.toml 的 [briefing] browser "
        "中填写浏览器程序的路径。不加 --pdf 时，HTML、Markdown、Word 版通报照常生成"
    )


def headless_command(browser: str, profile: Path, url: str, *actions: str) -> list[str]:
    """A headless Chromium run that touches nothing of the user's: a fresh profile folder, no
    sync, extensions, updates or background requests. actions: --print-to-pdf=…, --screenshot=…"""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--metrics-recording-only",
        "--no-pdf-header-footer",
        *actions,
        url,
    ]


def print_pdf(html: Path, target: Path, browser: str) -> Path:
    """Print the HTML to PDF with headless Chromium, atomically."""
    with tempfile.TemporaryDirectory(prefix="ducha-chromium-") as profile, atomic_path(target) as tmp:
        command = headless_command(browser, Path(profile), html.resolve().as_uri(), f"--print-to-pdf={tmp}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DuchaError(f"调用浏览器 {browser} 生成 PDF 失败：{exc}") from exc
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise DuchaError(f"浏览器 {browser} 未能生成 PDF（退出码 {done.returncode}）：{tail}")
    return target
