"""Personal data shown in part: ID numbers and phone numbers with their middle hidden.

Who may see a number in full is decided elsewhere (the receiving window on the
case page, a step for the fields its own form asks for); this module only hides.
"""

from __future__ import annotations

# Keys under which cases, forms and the API carry ID numbers and phone numbers.
ID_KEYS = frozenset({"applicant_id_number", "id_number", "legal_representative_id_number"})
PHONE_KEYS = frozenset({"applicant_phone", "contact_phone", "phone", "mobile"})
PERSONAL_KEYS = ID_KEYS | PHONE_KEYS


def mask(number: str | None, keep_start: int = 6, keep_end: int = 4) -> str:
    """The number with its middle hidden, for notices and pages (ID numbers by default)."""
    value = str(number or "").strip()
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[keep_start + hidden :]


def mask_phone(phone: str | None) -> str:
    """A phone number as 138****5678: the first three and last four kept."""
    return mask(phone, 3, 4)


def mask_value(key: str, value):
    """``value`` hidden if ``key`` names personal data, else as it is."""
    if not isinstance(value, str | int) or isinstance(value, bool) or value in ("", None):
        return value
    if key in ID_KEYS:
        return mask(str(value))
    if key in PHONE_KEYS:
        return mask_phone(str(value))
    return value


def masked(data, reveal: set[str] | frozenset[str] = frozenset()):
    """A copy of ``data`` (dicts and lists, at any depth) with the values of personal keys
    hidden, except the keys in ``reveal``."""
    if isinstance(data, dict):
        return {
            key: masked(value, reveal)
            if isinstance(value, dict | list)
            else (value if key in reveal else mask_value(key, value))
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [masked(value, reveal) for value in data]
    return data
