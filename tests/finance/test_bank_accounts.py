"""IBANs and BICs in text."""

from __future__ import annotations

import pytest

from bastion.finance.bank_accounts import find_bics, find_ibans, validate_bic, validate_iban
from bastion.finance.extract import extract_instruments
from bastion.finance.fold import fold_text


@pytest.mark.parametrize(
    ("written", "compact", "country"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "DE"),
        ("DE89370400440532013000", "DE89370400440532013000", "DE"),
        ("gb82 west 1234 5698 7654 32", "GB82WEST12345698765432", "GB"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606", "FR"),
        ("SA03 8000 0000 6080 1016 7519", "SA0380000000608010167519", "SA"),
        ("TR33-0006-1005-1978-6457-8413-26", "TR330006100519786457841326", "TR"),
    ],
)
def test_ibans_as_printed(written: str, compact: str, country: str) -> None:
    text = f"Account: {written}. Thank you"
    [found] = find_ibans(text)
    assert found.value == compact
    assert found.details["country"] == country
    assert text[found.start : found.end] == written


def test_bank_details_when_known() -> None:
    result = validate_iban("DE89370400440532013000")
    assert result is not None
    assert result[1]["bic"] == "COBADEFFXXX"
    assert result[1]["bank_name"]


def test_wrong_check_digits_are_refused() -> None:
    assert find_ibans("IBAN DE89 3704 0044 0532 0130 01") == []
    assert find_ibans("IBAN DE88 3704 0044 0532 0130 00") == []
    assert validate_iban("XX89370400440532013000") is None


def test_a_trailing_word_group_is_cut_off() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00 ABCD"
    [found] = find_ibans(text)
    assert text[found.start : found.end] == "DE89 3704 0044 0532 0130 00"


def test_arabic_indic_digits_fold() -> None:
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    text = "الآيبان: SA" + "03 8000 0000 6080 1016 7519".translate(digits)
    [found] = find_ibans(fold_text(text).text)
    assert found.value == "SA0380000000608010167519"


def test_bic_only_with_context() -> None:
    assert find_bics("HOSPITAL DEUTDEFF COBADEFFXXX") == []
    text = "SWIFT code: DEUTDEFF; BIC COBADEFFXXX; رمز السويفت NCBKSAJE; БИК: DEUTDEFF500"
    found = find_bics(text)
    assert [item.value for item in found] == ["DEUTDEFF", "COBADEFFXXX", "NCBKSAJE", "DEUTDEFF500"]


def test_bic_right_after_an_iban() -> None:
    text = "DE89 3704 0044 0532 0130 00 COBADEFFXXX"
    found = find_bics(text, find_ibans(text))
    assert [item.value for item in found] == ["COBADEFFXXX"]


def test_invalid_bic_after_context_is_refused() -> None:
    assert find_bics("BIC: DONATION") == []
    assert validate_bic("ABCDEFGH") is None


def test_an_iban_wrapped_onto_the_next_line_is_found() -> None:
    text = "Account:\nDE89 3704 0044\n0532 0130 00\nthank you"
    [found] = [i for i in extract_instruments(text) if i.kind == "iban"]
    assert found.value == "DE89370400440532013000"
    assert text[found.start : found.end] == "DE89 3704 0044\n0532 0130 00"
    # A line break is one separator: a blank line between groups is two lines apart.
    assert not [
        i for i in extract_instruments("DE89 3704 0044\n\n0532 0130 00") if i.kind == "iban"
    ]
