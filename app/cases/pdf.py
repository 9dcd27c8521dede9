"""HTML to PDF with WeasyPrint, with the Noto Sans SC font from npm embedded.

@fontsource ships the font as ~100 unicode-range subsets per weight, all under
one family name. WeasyPrint 70 keys an embedded PDF font by family, weight and
style only, so subsets sharing a family overwrite each other's glyphs (the PDF
shows wrong characters). Each subset therefore gets its own family here
("Noto Sans SC P4" …) and the page's font stack lists them all.

Loading ~200 subsets takes about two seconds, so the font configuration and
stylesheet are built once per process and reused; later renders take tens of
milliseconds (``warm_up`` loads them ahead of the first request). WeasyPrint objects are not known to be thread-safe, so loading
and rendering both hold one lock. The renderer fetches ``file:`` URLs only: a
document never reaches the network.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from app.errors import DomainError

FONT_PACKAGE = Path(__file__).resolve().parents[2] / "node_modules" / "@fontsource" / "noto-sans-sc"
FONT_FAMILY = "Noto Sans SC"
FONT_WEIGHTS = (400, 700)

_FACE = re.compile(r"@font-face\s*{(.*?)}", re.S)
# WOFF 1 rather than WOFF2: WeasyPrint decodes WOFF2 in pure Python, 4x slower to load.
_WOFF = re.compile(r"url\(\./files/(noto-sans-sc-([a-z0-9-]+?)-\d+-normal\.woff)\)")
_WEIGHT = re.compile(r"font-weight:\s*(\d+)")
_RANGE = re.compile(r"unicode-range:\s*([^;]+);")

_LOCK = threading.Lock()
_FONTS: dict = {}

# A document's page is a few kilobytes; the bounds keep one request from holding the
# renderer (and its lock) for long: a larger page is refused, a busy renderer is not waited
# for beyond LOCK_WAIT_SECONDS.
MAX_HTML_CHARS = 200_000
LOCK_WAIT_SECONDS = 20


class PdfUnavailable(DomainError):
    """The PDF renderer or its font is not installed here; ``message`` says what to install."""

    code = "pdf_unavailable"
    status = 503


class PdfTooLarge(DomainError):
    code = "pdf_too_large"
    status = 413


def _weasyprint():
    try:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango's shared libraries are missing
        raise PdfUnavailable(
            "无法生成 PDF：服务器缺少 WeasyPrint 或其依赖的 Pango 库。"
            "请安装：apt-get install libpango-1.0-0 libpangoft2-1.0-0，"
            "并在虚拟环境中安装 weasyprint。网页版文书仍可打印。"
        ) from exc
    return weasyprint, FontConfiguration, URLFetcher


def _font_files() -> list[Path]:
    files = [FONT_PACKAGE / f"{weight}.css" for weight in FONT_WEIGHTS]
    if not all(f.is_file() for f in files):
        raise PdfUnavailable(
            f"无法生成 PDF：缺少中文字体 {FONT_FAMILY}（node_modules/@fontsource/noto-sans-sc）。"
            "请在项目目录运行 npm install。网页版文书仍可打印。"
        )
    return files


def _subset_family(subset: str) -> str:
    return f"{FONT_FAMILY} P{subset}"


def _face(block: str) -> tuple[str, str] | None:
    """One subset as its own family (see the module's docstring): (family, rule)."""
    woff, weight, unicode_range = _WOFF.search(block), _WEIGHT.search(block), _RANGE.search(block)
    if not (woff and weight and unicode_range):
        return None
    family = _subset_family(woff.group(2))
    url = (FONT_PACKAGE / "files" / woff.group(1)).as_uri()
    return family, (
        f'@font-face {{ font-family: "{family}"; font-style: normal; '
        f'font-weight: {weight.group(1)}; src: url("{url}") format("woff"); '
        f"unicode-range: {unicode_range.group(1)}; }}"
    )


def font_css() -> str:
    """The @font-face rules of every subset and the page's font stack (Latin first)."""
    faces = [
        face
        for css_file in _font_files()
        for face in map(_face, _FACE.findall(css_file.read_text(encoding="utf-8")))
        if face is not None
    ]
    if not faces:
        raise PdfUnavailable(
            f"无法生成 PDF：无法读取字体 {FONT_FAMILY} 的样式表，请重新运行 npm install。"
        )
    families = list(dict.fromkeys(family for family, _rule in faces))
    families.sort(key=lambda family: family != _subset_family("latin"))
    stack = ", ".join(f'"{family}"' for family in families)
    rules = "\n".join(rule for _family, rule in faces)
    return f"{rules}\nhtml {{ font-family: {stack}, sans-serif; }}\n"


def _fonts() -> dict:
    """The process's font configuration and stylesheets, built on first use (hold _LOCK)."""
    if not _FONTS:
        weasyprint, font_configuration, url_fetcher = _weasyprint()
        fetcher = url_fetcher(allowed_protocols=("file",))
        config = font_configuration()
        stylesheets = [weasyprint.CSS(string=font_css(), font_config=config, url_fetcher=fetcher)]
        _FONTS.update(
            weasyprint=weasyprint, config=config, stylesheets=stylesheets, fetcher=fetcher
        )
    return _FONTS


def warm_up() -> None:
    """Load the fonts now (e.g. in a background thread at start) so no user waits for it."""
    with _LOCK:
        _fonts()


def html_to_pdf(html: str) -> bytes:
    """A PDF of a standalone HTML page; its own CSS must not set the ``html`` font-family.

    Call it outside any database transaction: rendering takes time.
    """
    if len(html) > MAX_HTML_CHARS:
        raise PdfTooLarge("文书内容过长，无法生成 PDF；请使用网页版打印。")
    if not _LOCK.acquire(timeout=LOCK_WAIT_SECONDS):
        raise PdfUnavailable("PDF 生成繁忙，请稍后重试；网页版文书仍可打印。")
    try:
        fonts = _fonts()
        document = fonts["weasyprint"].HTML(string=html, url_fetcher=fonts["fetcher"])
        return document.write_pdf(stylesheets=fonts["stylesheets"], font_config=fonts["config"])
    finally:
        _LOCK.release()
