"""Payment-instrument signals: what banks hold for the terrorist-financing stage.

Each is matched by equality of its canonical value, the value
:attr:`bastion.finance.findings.Instrument.signal_value` gives for a finding:

* ``crypto_address``: ``scheme:value`` (``btc:bc1q…``, ``evm:0x…`` lower-case,
  ``lightning:lnbc…``); accepts ``scheme:address``, a payment URI (``bitcoin:…?amount=``,
  ``ethereum:0x…@1``) or a bare address (its format names the chain);
* ``iban``: compact upper case; ``bic``: 8 or 11 characters, upper case;
* ``payment_account``: ``platform:handle`` (``paypal:brother1``); accepts a payment link URL;
* ``phone``: E.164 (``+252615123456``); a number must be written in international form.
"""

from __future__ import annotations

import phonenumbers

from bastion.errors import InvalidSignal
from bastion.finance.bank_accounts import validate_bic, validate_iban
from bastion.finance.crypto import SCHEMES, normalize_crypto_address
from bastion.finance.payment_links import match_payment_url, platforms
from bastion.finance.payment_uris import find_payment_uris, parse_lightning
from bastion.signals.base import SignalType

__all__ = [
    "BicSignal",
    "CryptoAddressSignal",
    "IbanSignal",
    "PaymentAccountSignal",
    "PhoneSignal",
]


def _text(value: object, signal_type: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignal(f"{signal_type} must be a non-empty string", signal_type=signal_type)
    return value.strip()


class CryptoAddressSignal(SignalType):
    """A crypto address or Lightning invoice/LNURL, as ``scheme:value``."""

    name = "crypto_address"
    display_name = "Crypto address"

    @classmethod
    def normalize(cls, value: str) -> str:
        text = _text(value, cls.name)
        prefix, colon, rest = text.partition(":")
        if (colon and prefix.lower() == "lightning") or text.lower().startswith("ln"):
            parsed = parse_lightning(rest if colon else text)
            if parsed is None:
                raise InvalidSignal("not a valid Lightning invoice or LNURL", signal_type=cls.name)
            return f"lightning:{parsed[0]}"
        if colon and prefix.lower() in SCHEMES:
            try:
                scheme, canonical, _ = normalize_crypto_address(rest, prefix.lower())
            except InvalidSignal as error:
                raise InvalidSignal(error.detail, signal_type=cls.name) from None
            return f"{scheme}:{canonical}"
        if colon:
            uris = find_payment_uris(text)
            if len(uris) == 1 and uris[0].start == 0:
                return f"{uris[0].scheme}:{uris[0].value}"
        try:
            scheme, canonical, _ = normalize_crypto_address(text)
        except InvalidSignal as error:
            raise InvalidSignal(error.detail, signal_type=cls.name) from None
        return f"{scheme}:{canonical}"


class IbanSignal(SignalType):
    name = "iban"
    display_name = "IBAN"

    @classmethod
    def normalize(cls, value: str) -> str:
        result = validate_iban(_text(value, cls.name))
        if result is None:
            raise InvalidSignal(f"not a valid IBAN: {value!r}", signal_type=cls.name)
        return result[0]


class BicSignal(SignalType):
    name = "bic"
    display_name = "BIC / SWIFT code"

    @classmethod
    def normalize(cls, value: str) -> str:
        result = validate_bic(_text(value, cls.name))
        if result is None:
            raise InvalidSignal(f"not a valid BIC: {value!r}", signal_type=cls.name)
        return result[0]


class PaymentAccountSignal(SignalType):
    """An account or campaign on a payment platform, as ``platform:handle``."""

    name = "payment_account"
    display_name = "Payment account"

    @classmethod
    def normalize(cls, value: str) -> str:
        text = _text(value, cls.name)
        prefix, colon, handle = text.partition(":")
        known = {platform.id: platform for platform in platforms()}
        if colon and prefix.lower() in known and handle and "/" not in handle:
            platform = known[prefix.lower()]
            handle = handle.strip().lstrip("$@")
            if not handle or any(char.isspace() for char in handle):
                raise InvalidSignal("a handle has no spaces", signal_type=cls.name)
            return f"{platform.id}:{handle.lower() if platform.case_insensitive else handle}"
        matched = match_payment_url(text)
        if matched is None:
            raise InvalidSignal(
                f"neither platform:handle nor a payment link: {value!r}", signal_type=cls.name
            )
        return f"{matched[0]}:{matched[1]}"


class PhoneSignal(SignalType):
    name = "phone"
    display_name = "Phone number (payments)"

    @classmethod
    def normalize(cls, value: str) -> str:
        text = _text(value, cls.name)
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise InvalidSignal(
                f"not an international phone number: {value!r}", signal_type=cls.name
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise InvalidSignal(f"not a valid phone number: {value!r}", signal_type=cls.name)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
