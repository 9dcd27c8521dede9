"""The per-call budget: time, work, memory and the size of what code builds.

One evaluate/execute call gets a fresh budget. Guards charge it for bulk
operations and refuse results above the size limits before building them;
the deadline and resident memory are checked cooperatively, at most every
``MEMORY_SAMPLE_SECONDS``.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from time import monotonic

from .errors import over_limit

MAX_FORMAT_WIDTH = 1000
MAX_DECIMAL_DIGITS = 4300
SMALL = 1024  # sizes up to this skip the budget bookkeeping
MEMORY_SAMPLE_SECONDS = 0.005


@dataclass(frozen=True)
class SandboxLimits:
    """Per-call limits; one evaluate/execute call gets a fresh budget."""

    time_limit: float = 1.0  # wall-clock seconds
    max_size: int = 1_000_000  # chars or items one operation may build
    max_int_bits: int = 10_000
    max_work: int = 50_000_000  # items touched by bulk operations per call
    memory_limit: int = 256 * 2**20  # resident memory growth in bytes; 0 = off
    max_data_size: int = 10_000_000  # flattened size of results and task data
    max_data_depth: int = 100


def _read_rss() -> int | None:
    """Resident memory of this process, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Budget:
    """Time, work and memory spent by one evaluate/execute call."""

    __slots__ = ("deadline", "limits", "next_check", "rss_start", "work")

    def __init__(self, limits: SandboxLimits, start: float):
        now = monotonic()
        self.limits = limits
        self.deadline = start + limits.time_limit
        # Short calls never pay for reading /proc; the memory baseline is taken
        # at the first check, before much can have been allocated.
        self.next_check = min(self.deadline, now + MEMORY_SAMPLE_SECONDS)
        self.work = 0
        self.rss_start = None

    def tick(self) -> None:
        if monotonic() >= self.next_check:
            self._check()

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > self.limits.max_work:
            raise over_limit("运算量超出限制", "sandbox.work_limit")
        self.tick()

    def _check(self) -> None:
        now = monotonic()
        if now > self.deadline:
            raise over_limit(f"运行时间超过 {self.limits.time_limit:g} 秒", "sandbox.time_limit")
        self.next_check = min(self.deadline, now + MEMORY_SAMPLE_SECONDS)
        if self.limits.memory_limit:
            self._check_memory()

    def _check_memory(self) -> None:
        rss = _read_rss()
        if rss is None:
            return
        if self.rss_start is None:
            self.rss_start = rss
        elif rss - self.rss_start > self.limits.memory_limit:
            raise over_limit("内存占用超出限制", "sandbox.memory_limit")


# Holds (limits, start time) while a call runs (set by the environment), and
# the _Budget once a guard needs one: most conditions never reach a slow path
# and skip building it.
CURRENT: ContextVar[_Budget | tuple | None] = ContextVar("sandbox_budget", default=None)


def current_budget() -> _Budget:
    current = CURRENT.get()
    if type(current) is _Budget:
        return current
    if current is None:
        raise over_limit("沙箱代码只能在求值期间运行", "sandbox.no_budget")
    budget = _Budget(*current)
    CURRENT.set(budget)
    return budget


def grow(size: int) -> None:
    """Refuse to build something larger than max_size; charge big builds."""
    if size > SMALL:
        budget = current_budget()
        if size > budget.limits.max_size:
            raise over_limit(f"结果过大（{size} 个元素/字符）", "sandbox.size_limit")
        budget.spend(size)


def charge(size: int) -> None:
    if size > SMALL:
        current_budget().spend(size)


def check_bits(bits: int) -> None:
    if bits > SMALL and bits > current_budget().limits.max_int_bits:
        raise over_limit("整数过大", "sandbox.int_limit")


def check_decimal(value: Decimal) -> None:
    """Decimals with huge exponents turn into huge ints or digit strings."""
    if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_DIGITS:
        raise over_limit("Decimal 数值的位数过多", "sandbox.decimal_limit")


# --- measuring nested values -----------------------------------------------------

CONTAINERS = (list, tuple, dict, set, frozenset)


def measure(value, limit: int) -> int:
    """Rough flattened size (items plus chars), refusing past ``limit``.

    Aliasing makes a small object expensive to print or copy
    (``[s] * 10**6``), so anything that flattens a value measures it first.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) or 1
        elif kind is int:
            total += item.bit_length() // 3 + 1
        elif kind in CONTAINERS:
            total += 1
            size = 2 * len(item) if kind is dict else len(item)
            if total + size > limit:
                raise over_limit("数据过大", "sandbox.size_limit")
            stack.extend(item.items() if kind is dict else item)
        else:
            total += 1
        if total > limit:
            raise over_limit("数据过大", "sandbox.size_limit")
    return total


def element_weight(seq, limit: int) -> int:
    """Flattened size of the elements of ``seq`` (not counting ``seq`` itself)."""
    if type(seq) is str:
        return len(seq)
    return max(measure(seq, limit + 1) - 1, len(seq))
