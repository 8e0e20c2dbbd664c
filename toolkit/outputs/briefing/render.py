"""The briefing context laid out through templates the clerk may edit: HTML, Markdown and Word.

Unit text is hostile until proven otherwise, so every output escapes it: Jinja autoescape for
HTML and Word XML, a Markdown escaper for Markdown. An edited template with a mistake fails with
a message naming the template and the line, never with a silently blank document.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from toolkit.config import BUNDLED_TEMPLATES, Config
from toolkit.errors import DuchaError
from toolkit.outputs.briefing.chart_images import WIDTHS_MM
from toolkit.outputs.briefing.settings import BriefingSettings, briefing_settings
from toolkit.outputs.briefing.text import clean

HTML_TEMPLATE = "briefing.html.j2"
MD_TEMPLATE = "briefing.md.j2"
DOCX_TEMPLATE = "briefing.docx"

NOBREAK = "\u2060"  # WORD JOINER
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>|#~&!])")
_MD_LINE_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([-+=])(?=\s|$)")


def md_escape(value: object) -> str:
    """Backslash-escape what CommonMark would read as markup (emphasis, links, raw HTML, entity
    references, table pipes) and list or heading markers at the start, so unit text shows as typed."""
    text = _MD_ACTIVE.sub(r"\\\1", clean(value))
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _md_finalize(value: object) -> object:
    return value if isinstance(value, Markup) else md_escape(value)


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip (a .docx) with fixed timestamps so the same content gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info))
    return out.getvalue()


def template_dirs(config: Config, settings: BriefingSettings | None = None) -> list[Path]:
    """The workspace's templates folder first (the clerk's edited copies), then the bundled ones."""
    settings = settings or briefing_settings(config)
    return [config.root / settings.templates, BUNDLED_TEMPLATES]


def _find_template(dirs: Iterable[Path], name: str) -> Path:
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    raise DuchaError(f"找不到通报模板 {name}（已查找：{'、'.join(str(d) for d in dirs)}）")


def _environment(dirs: list[Path], markdown: bool) -> jinja2.Environment:
    """HTML: Jinja autoescape. Markdown: every value through md_escape (finalize) instead, since
    HTML escaping does not stop Markdown syntax. Undefined names fail loudly: a typo in an edited
    template must not silently print nothing."""
    options: dict[str, Any] = {"finalize": _md_finalize, "autoescape": False} if markdown else {"autoescape": True}
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        **options,
    )


def _render(name: str, render: Callable[[], Any]) -> Any:
    """Turn a template mistake into a message naming the template and the line."""
    try:
        return render()
    except jinja2.TemplateSyntaxError as exc:
        raise DuchaError(f"通报模板 {name} 第 {exc.lineno} 行有语法错误：{exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise DuchaError(f"通报模板 {name} 使用了不存在的数据项：{exc.message}") from exc


def render_html(context: dict[str, Any], dirs: list[Path]) -> str:
    env = _environment(dirs, markdown=False)
    return _render(HTML_TEMPLATE, lambda: env.get_template(HTML_TEMPLATE).render(context))


def render_markdown(context: dict[str, Any], dirs: list[Path]) -> str:
    env = _environment(dirs, markdown=True)
    return _render(MD_TEMPLATE, lambda: env.get_template(MD_TEMPLATE).render(context))


def nobreak(value: object) -> str:
    """A unit's name with WORD JOINER between its characters: Word and LibreOffice may break a line
    between any two Chinese characters, which would print 市发展改/革委; this keeps the name whole."""
    return NOBREAK.join(clean(value))


def render_docx(context: dict[str, Any], dirs: list[Path], pictures: dict[str, bytes] | None = None) -> bytes:
    """Word through docxtpl with autoescape on (its default is off): a unit's `<`, `&` become XML
    entities instead of breaking the document. pictures: the charts as PNG (chart_images), placed
    as `chart_images.sections` / `.lights`, None when they could not be drawn. Zip timestamps
    are fixed for reproducible bytes."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    template = DocxTemplate(str(_find_template(dirs, DOCX_TEMPLATE)))
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["nobreak"] = nobreak
    images = {name: InlineImage(template, io.BytesIO(data), width=Mm(WIDTHS_MM[name]))
              for name, data in pictures.items()} if pictures else None
    data = context | {"chart_images": images}
    _render(DOCX_TEMPLATE, lambda: template.render(data, jinja_env=env, autoescape=True))
    out = io.BytesIO()
    template.save(out)
    return stable_zip(out.getvalue())


def split_appendix(data: bytes) -> tuple[bytes, bytes]:
    """A rendered 通报 cut at its first section break: (the body with its 版记, the landscape 附件
    as a document of its own, keeping the page-number footers)."""
    import docx

    def cut(keep_body: bool) -> bytes:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        children = list(body.iterchildren())
        breaks = [c for c in children if c.find(f"{W}pPr/{W}sectPr") is not None]
        if not breaks:
            raise DuchaError(f"通报模板 {DOCX_TEMPLATE} 的正文与附件之间没有分节符，无法按 appendix = \"separate\" 把附件另存")
        brk = breaks[0]
        first = brk.find(f"{W}pPr/{W}sectPr")
        last = body.find(f"{W}sectPr")
        at = children.index(brk)
        for child in children[at + 1:-1] if keep_body else children[: at + 1]:
            body.remove(child)
        if keep_body:
            brk.find(f"{W}pPr").remove(first)
            body.replace(last, first)
        else:
            for ref in first.findall(f"{W}footerReference") + first.findall(f"{W}headerReference"):
                last.insert(0, ref)
        out = io.BytesIO()
        document.save(out)
        return stable_zip(out.getvalue())

    return cut(True), cut(False)
