"""What a user reads on a page, and the words there that are not theirs.

``foreign_words(html)`` returns the English words, internal ids, region codes,
raw JSON and escaped characters found in a page's visible text (text nodes,
button values, placeholders, titles and the options of selects), so a test can
say "this page speaks Chinese, in the user's terms".
"""

from __future__ import annotations

import re

import lxml.html

# Words a Chinese clerk reads as their own: file formats, units, the names of
# the standards printed on documents, and numbering as it is written.
ALLOWED = {
    "PDF",
    "JPG",
    "PNG",
    "OFD",
    "ID",
    "BPMN",
    "DMN",
    "XML",
    "API",
    "CSV",
    "Excel",
    "A",
    "B",
    "AB",
    "kg",
    "cm",
    "mm",
    "m",
    "KB",
    "MB",
    "GB",
    "No",
}
CODE = re.compile(
    r"\b\d{3,}\*+\d{3}[\dX]\b|\b[0-9A-Z]{10,}\b|\b[0-9A-Z]+(?:-[0-9A-Z]+)+\b|\b(?=[0-9A-Z]*\d)[0-9A-Z]{6,}\b"
)
FILE_NAME = re.compile(
    r"[^\s（()）：:，,]+\.(?:pdf|ofd|jpe?g|png|gif|tiff?|docx?|xlsx?|wps|zip)\b", re.I
)
INVISIBLE = {"script", "style", "template", "noscript", "head"}
WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]|[A-Za-z]")
INTERNAL = [
    (
        re.compile(r"\b(?:Task|Activity|Gateway|Event|Flow|Process|Lane|StartEvent|EndEvent)_\w+"),
        "流程内部标识",
    ),
    (re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"), "程序内部名称"),
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "区划代码"),
    (re.compile(r"\\u[0-9a-fA-F]{4}"), "转义字符"),
    (re.compile(r"[{\[]\s*\""), "原始 JSON"),
    (re.compile(r"#\d+"), "内部编号"),
]


def visible_text(html: str) -> list[str]:
    """The pieces of text a user sees or hears on the page, in document order."""
    root = lxml.html.fromstring(html)
    pieces: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in INVISIBLE or any(a.tag in INVISIBLE for a in element.iterancestors()):
            continue
        if element.get("hidden") is not None or "d-none" in (element.get("class") or "").split():
            continue
        if element.text and element.text.strip():
            pieces.append(element.text.strip())
        for attribute in ("placeholder", "title", "aria-label", "alt"):
            if element.get(attribute):
                pieces.append(element.get(attribute).strip())
        if element.tag == "input" and element.get("type") in ("submit", "button", "reset"):
            pieces.append((element.get("value") or "").strip())
        if element.tail and element.tail.strip():
            parent = element.getparent()
            if parent is None or parent.tag not in INVISIBLE:
                pieces.append(element.tail.strip())
    return [p for p in pieces if p]


def foreign_words(html: str, *, allowed: set[str] = frozenset()) -> list[str]:
    """Each word or token of the page a Chinese user would not understand, with why."""
    found: list[str] = []
    for piece in visible_text(html):
        for pattern, why in INTERNAL:
            for match in pattern.finditer(piece):
                found.append(f"{why}: {match.group(0)!r} in {piece[:80]!r}")
        stripped = piece
        for pattern, _why in INTERNAL:
            stripped = pattern.sub(" ", stripped)
        # strip things that are the user's own data: e-mail, URLs, numbers with units
        stripped = re.sub(r"\S+@\S+|https?://\S+", " ", stripped)
        # the names of files people uploaded (扫描件.pdf): theirs, not the platform's
        stripped = FILE_NAME.sub(" ", stripped)
        # the diagram viewer's licence mark (bpmn.io's licence asks to keep it visible)
        stripped = stripped.replace("Powered by bpmn.io", " ")
        # codes that are data: item codes, verification codes, ID numbers
        stripped = CODE.sub(" ", stripped)
        for word in WORD.findall(stripped):
            if word in ALLOWED or word in allowed:
                continue
            found.append(f"英文: {word!r} in {piece[:80]!r}")
    return found
