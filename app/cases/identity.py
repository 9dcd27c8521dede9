"""Checking applicants' identity numbers by their check characters.

Resident identity card numbers (GB 11643-1999): 17 digits and a check
character from ISO 7064 MOD 11-2. Unified social credit codes (GB 32100-2015):
17 characters and a check character, weights 3^i mod 31 over a 31-letter alphabet.
"""

from __future__ import annotations

import re
from datetime import date

from app.privacy import mask

__all__ = ["credit_code_problem", "id_card_problem", "identity_problem", "mask", "phone_problem"]

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def id_card_problem(number: str) -> str | None:
    """None if the resident ID number is valid, else why not (Chinese)."""
    value = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "身份证号码应为 18 位（最后一位可以是 X）。"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期不正确。"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
    if value[17] != check:
        return "身份证号码校验位不正确，请核对。"
    return None


def credit_code_problem(code: str) -> str | None:
    """None if the unified social credit code is valid, else why not (Chinese)."""
    value = code.strip().upper()
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        return "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）。"
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    if value[17] != _USCC_ALPHABET[(31 - total % 31) % 31]:
        return "统一社会信用代码校验位不正确，请核对。"
    return None


def identity_problem(applicant_type: str, number: str) -> str | None:
    """Check a person's ID card number or a company's credit code."""
    return credit_code_problem(number) if applicant_type == "company" else id_card_problem(number)


def phone_problem(phone: str) -> str | None:
    return None if _PHONE.fullmatch(phone.strip()) else "请填写手机号码或带区号的固定电话。"
