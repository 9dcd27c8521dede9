"""The statistics tests' month (tests/statistics/month.py)."""

from .month import TOWN, VILLAGE, Cases, d, march, moment  # noqa: F401
