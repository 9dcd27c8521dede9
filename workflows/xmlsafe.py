"""Hardened XML parsing for uploaded diagrams.

Uploaded BPMN and DMN files are untrusted. They are parsed here, before
SpiffWorkflow sees them: no DTD, no entities, no network, no huge trees, a size
limit. Any DOCTYPE is refused outright, which rules out XXE and entity
amplification whatever the parser's defaults are.
"""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRejected(Exception):
    """The bytes are not acceptable XML; carries a problem key and a line."""

    def __init__(self, key: str, message: str, line: int | None = None):
        super().__init__(message)
        self.key = key
        self.message = message
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def _line_of(content: bytes, offset: int) -> int:
    return content.count(b"\n", 0, offset) + 1


def parse_xml(content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes or raise XmlRejected with a clear reason."""
    if len(content) > max_bytes:
        raise XmlRejected(
            "file.too_large",
            f"文件大小 {len(content)} 字节，超过上限 {max_bytes} 字节。",
        )
    if not content.strip():
        raise XmlRejected("file.empty", "文件为空。")
    doctype = _DOCTYPE.search(content)
    if doctype is not None:
        raise XmlRejected(
            "xml.doctype_forbidden",
            "文件包含 DOCTYPE 或实体声明，出于安全原因不予接受；请删除后重新上传。",
            _line_of(content, doctype.start()),
        )
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise XmlRejected("xml.syntax", f"不是合法的 XML：{exc.msg}", line) from None
    if tree.docinfo.doctype:
        raise XmlRejected("xml.doctype_forbidden", "文件包含 DOCTYPE，不予接受。", 1)
    return tree
