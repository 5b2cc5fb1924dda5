"""Phone numbers as payment instruments, only beside a mobile-money context word."""

from __future__ import annotations

from bastion.finance.fold import fold_text
from bastion.finance.phones import find_phones


def _phones(text: str) -> list[tuple[str, str]]:
    return [(item.value, item.details["region"]) for item in find_phones(fold_text(text).text)]


def test_number_without_context_is_not_reported() -> None:
    assert _phones("Call me on +254 712 345678 tomorrow") == []


def test_mobile_money_numbers() -> None:
    assert _phones("Send via EVC Plus to 061 5123456") == [("+252615123456", "SO")]
    assert _phones("M-Pesa: 0712 345678") == [("+254712345678", "KE")]
    assert _phones("bKash 01712-345678") == [("+8801712345678", "BD")]
    assert _phones("JazzCash 0300 1234567") == [("+923001234567", "PK")]


def test_carrier_and_context_in_details() -> None:
    [found] = find_phones("Send via EVC Plus to 061 5123456")
    assert found.details["carrier"] == "Hormuud"
    assert found.details["context"] == "EVC Plus"


def test_arabic_and_russian_context() -> None:
    text = "فودافون كاش ٠١٠٠١٢٣٤٥٦٧ حوالة"
    assert _phones(text) == [("+201001234567", "EG")]
    assert _phones("Перевод на номер +7 912 345-67-89") == [("+79123456789", "RU")]


def test_invalid_number_is_not_reported() -> None:
    assert _phones("M-Pesa 0000 000000") == []


def test_digits_inside_a_longer_token_are_not_a_number() -> None:
    text = "EVC Plus 0615751716 0x97128841B578254m7A88b14 and sha 3f786850e3875501234567"
    assert _phones(text) == [("+252615751716", "SO")]
