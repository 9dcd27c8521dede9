"""Joins that merge what each branch changed.

SpiffWorkflow 3.2 merges whole branch data in completion order, so a value set
by one department is overwritten by the stale copy another branch carried
since the split (and, in a 补正 loop, by the previous round). Here the data at
the split is the base and each branch's own changes are applied to it in the
order the branches finished. The gateway specs that call this are in
``spiff_compat`` (they hook into SpiffWorkflow's join).
"""

from __future__ import annotations

import copy


def common_ancestor(tasks):
    """The deepest task that is an ancestor of (or is) every given task."""
    chains = []
    for task in tasks:
        chain = []
        while task is not None:
            chain.append(task)
            task = task.parent
        chains.append(chain[::-1])
    common = None
    for level in zip(*chains, strict=False):
        if all(t is level[0] for t in level):
            common = level[0]
        else:
            break
    return common


def merged_data(tails: list) -> dict:
    """Join data from the last task of each branch, in the order the branches finished."""
    base_task = common_ancestor(tails)
    base = base_task.data if base_task is not None else {}
    merged = copy.deepcopy(base)
    for tail in tails:
        _merge_changes(merged, base, tail.data)
    return merged


def _merge_changes(merged: dict, base: dict, branch: dict) -> None:
    """Apply to ``merged`` what ``branch`` changed relative to ``base``."""
    for key, value in branch.items():
        if key in base and base[key] == value:
            continue
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and isinstance(merged.get(key), dict):
            _merge_changes(merged[key], old, value)
        else:
            merged[key] = copy.deepcopy(value)
    for key in base:
        if key not in branch:
            merged.pop(key, None)
