"""Hardened XML parsing for uploaded diagrams.

Uploaded BPMN and DMN files are untrusted. They are parsed here, before
SpiffWorkflow sees them: no DTD, no entities, no network, no huge trees, a size
limit. Any DOCTYPE is refused outright, which rules out XXE and entity
amplification whatever the parser's defaults are.

A deployed file is also served back to staff browsers (the case's diagram), so
markup a browser executes is refused too: elements or attributes in the XHTML,
SVG, MathML, XSLT or XInclude namespaces (e.g. a ``<script>`` inside
``bpmn:documentation``) and processing instructions (``<?xml-stylesheet?>``).
Extension namespaces of modelers (camunda, spiffworkflow, zeebe, bioc, color …)
are data and stay allowed.
"""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

# namespaces whose content a browser renders or runs, or an XML processor follows
ACTIVE_NAMESPACES = {
    "http://www.w3.org/1999/xhtml": "XHTML",
    "http://www.w3.org/2000/svg": "SVG",
    "http://www.w3.org/1998/Math/MathML": "MathML",
    "http://www.w3.org/1999/XSL/Transform": "XSLT",
    "http://www.w3.org/2001/XInclude": "XInclude",
    "http://www.w3.org/2003/XInclude": "XInclude",
}


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
        remove_pis=False,
    )


_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def _prolog_doctype(content: bytes) -> int | None:
    """Offset of a DOCTYPE (where entities are declared), or None.

    XML allows a DOCTYPE only in the prolog, before the root element; the same
    words later (in a CDATA documentation block, a comment, text) are just text.
    A prolog we cannot read (another encoding) is searched whole, as before.
    """
    offset = 3 if content.startswith(b"\xef\xbb\xbf") else 0
    while offset < len(content):
        item = _PROLOG_ITEM.match(content, offset)
        if item is None:
            break
        offset = item.end()
    rest = content[offset : offset + 2]
    if rest[:1] == b"<" and rest[1:2] not in (b"!", b"?", b""):
        return None  # the root element starts: no DOCTYPE before it
    if content.startswith(b"<!", offset) and not _DOCTYPE.match(content, offset):
        return None  # e.g. a CDATA section at the top: a syntax error for the parser
    found = _DOCTYPE.search(content, offset)
    return found.start() if found else None


def _line_of(content: bytes, offset: int) -> int:
    return content.count(b"\n", 0, offset) + 1


# libxml2's syntax errors in the designers' words (by error code); others keep its text
SYNTAX_MESSAGES = {
    4: "文件为空",
    5: "根元素之后还有多余内容（一个文件只能有一个根元素）",
    9: "含有 XML 不允许的字符",
    26: "使用了未声明的实体",
    39: "属性值缺少引号",
    41: "属性值中不能有“<”",
    42: "同一元素上有重复的属性",
    68: "元素名称不合法",
    73: "开始标签没有正确结束（缺少“>”）",
    76: "开始标签与结束标签不匹配",
    77: "文件在标签结束之前就结束了",
    201: "使用了未声明的命名空间前缀",
}
_POSITION = re.compile(r",? line \d+, column \d+$")


def syntax_message(exc: etree.XMLSyntaxError) -> str:
    """What is wrong, in Chinese where the error is a common one, with the column."""
    known = SYNTAX_MESSAGES.get(exc.code)
    if known is None:
        return _POSITION.sub("", exc.msg or "语法错误")
    column = getattr(exc, "position", (None, None))[1]
    return f"{known}（第 {column} 列）" if column else known


def parse_xml(content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes or raise XmlRejected with a clear reason."""
    if len(content) > max_bytes:
        raise XmlRejected(
            "file.too_large",
            f"文件大小 {len(content)} 字节，超过上限 {max_bytes} 字节。",
        )
    if not content.strip():
        raise XmlRejected("file.empty", "文件为空。")
    doctype = _prolog_doctype(content)
    if doctype is not None:
        raise XmlRejected(
            "xml.doctype_forbidden",
            "文件包含 DOCTYPE 或实体声明，出于安全原因不予接受；请删除后重新上传。",
            _line_of(content, doctype),
        )
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise XmlRejected("xml.syntax", f"不是合法的 XML：{syntax_message(exc)}", line) from None
    if tree.docinfo.doctype:
        raise XmlRejected("xml.doctype_forbidden", "文件包含 DOCTYPE，不予接受。", 1)
    _refuse_active_content(tree)
    return tree


def _namespace(qualified: str) -> str | None:
    return qualified[1:].split("}", 1)[0] if qualified.startswith("{") else None


def _nodes(tree: etree._ElementTree):
    """Every node: what precedes and follows the root (PIs, comments) and the root's subtree."""
    root = tree.getroot()
    yield from reversed(list(root.itersiblings(preceding=True)))
    yield from root.iter()
    yield from root.itersiblings()


def _refuse_active_content(tree: etree._ElementTree) -> None:
    for node in _nodes(tree):
        if isinstance(node, etree._ProcessingInstruction):
            raise XmlRejected(
                "xml.processing_instruction",
                f"文件包含处理指令 <?{node.target} …?>，出于安全原因不予接受；请删除后重新上传。",
                node.sourceline,
            )
        if not isinstance(node.tag, str):
            continue  # comments and entities carry no markup
        names = [node.tag, *node.attrib.keys()]
        for name in names:
            kind = ACTIVE_NAMESPACES.get(_namespace(name))
            if kind is not None:
                raise XmlRejected(
                    "xml.active_content",
                    f"文件包含 {kind} 内容（{etree.QName(name).localname}），浏览器可能执行它，"
                    "出于安全原因不予接受；文档说明请使用纯文本。",
                    node.sourceline,
                )
