"""One word per value: the stored strings stay the runtime's, and every label is Chinese."""

import re

import pytest

from app import vocabulary as v
from workflows import models as wm

WORDS = [
    v.CaseStatus,
    v.InstanceStatus,
    v.WorkItemStatus,
    v.ItemStatus,
    v.CaseChannel,
    v.CaseResult,
    v.InstanceEventKind,
    v.CaseEventKind,
]
CHINESE = re.compile(r"^[\u4e00-\u9fff]+$")


def test_runtime_statuses_are_the_runtime_constants():
    assert {s.name: s.value for s in v.InstanceStatus} == {
        "RUNNING": wm.RUNNING,
        "ERROR": wm.ERROR,
        "COMPLETED": wm.COMPLETED,
        "TERMINATED": wm.TERMINATED,
    }
    assert {s.name: s.value for s in v.WorkItemStatus} == {
        "OPEN": wm.OPEN,
        "DONE": wm.DONE,
        "CANCELLED": wm.CANCELLED,
        "RETURNED": wm.RETURNED,
    }


@pytest.mark.parametrize("word", WORDS, ids=lambda w: w.__name__)
def test_every_label_is_chinese_and_no_value_or_label_repeats(word):
    assert all(CHINESE.match(member.label) for member in word), word.labels()
    assert len({m.value for m in word}) == len(word)
    assert len({m.label for m in word}) == len(word)


def test_a_member_is_its_stored_string():
    assert v.CaseStatus.ACCEPTED == "accepted" and f"{v.CaseStatus.ACCEPTED}" == "accepted"
    assert v.CaseStatus.parse("accepted") is v.CaseStatus.ACCEPTED
    assert v.CaseStatus.parse("nonsense") is None and v.CaseStatus.parse(None) is None
    assert v.CaseStatus.label_of("processing") == "办理中"
    assert v.CaseStatus.label_of("nonsense") == "nonsense"


def test_the_subsets_name_members_of_their_own_enum():
    assert set(v.CaseStatus.in_progress()) <= set(v.CaseStatus.open())
    assert set(v.InstanceEventKind.operations()) <= set(v.InstanceEventKind)
    assert set(v.CaseEventKind.public()) <= set(v.CaseEventKind)


def test_process_and_case_events_share_no_word_in_the_audit_log():
    assert not {str(k) for k in v.InstanceEventKind} & {str(k) for k in v.CaseEventKind}
