"""Signal types for payment instruments: what banks hold, normalised for equality matching."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidSignal
from bastion.finance.extract import extract_instruments
from bastion.signals.registry import get_signal_type

BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.mark.parametrize(
    ("signal_type", "value", "canonical"),
    [
        ("crypto_address", BTC, f"btc:{BTC}"),
        ("crypto_address", f"btc:{BTC}", f"btc:{BTC}"),
        ("crypto_address", f"bitcoin:{BTC}?amount=1", f"btc:{BTC}"),
        ("crypto_address", f"evm:{EVM}", f"evm:{EVM.lower()}"),
        ("crypto_address", f"ethereum:{EVM}@1", f"evm:{EVM.lower()}"),
        (
            "crypto_address",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ),
        ("iban", "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("bic", "cobadeffxxx", "COBADEFFXXX"),
        ("payment_account", "https://www.paypal.me/BrotherX", "paypal:brotherx"),
        ("payment_account", "paypal:BrotherX", "paypal:brotherx"),
        ("payment_account", "cashapp:$Tag", "cashapp:tag"),
        ("phone", "+252 61 5123456", "+252615123456"),
    ],
)
def test_normalize(signal_type: str, value: str, canonical: str) -> None:
    assert get_signal_type(signal_type).normalize(value) == canonical


@pytest.mark.parametrize(
    ("signal_type", "value"),
    [
        ("crypto_address", BTC[:-1] + "b"),
        ("crypto_address", "btc:" + EVM),
        ("crypto_address", ""),
        ("iban", "DE89 3704 0044 0532 0130 01"),
        ("bic", "DONATION"),
        ("payment_account", "https://www.paypal.com/"),
        ("payment_account", "nosuchplatform:abc"),
        ("phone", "0615123456"),
        ("phone", "+252 00 0000000"),
    ],
)
def test_invalid_values(signal_type: str, value: str) -> None:
    with pytest.raises(InvalidSignal):
        get_signal_type(signal_type).normalize(value)


def test_findings_store_as_their_signal_type() -> None:
    text = f"BTC {BTC} IBAN DE89 3704 0044 0532 0130 00 paypal.me/BrotherX EVC Plus 061 5123456"
    for item in extract_instruments(text):
        assert get_signal_type(item.signal_type).normalize(item.signal_value) == item.signal_value
