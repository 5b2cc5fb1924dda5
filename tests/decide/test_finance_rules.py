"""The verdict's financing rules, as pure functions of a scan result and the policy: sanctions
hits, an instrument beside appeal wording or a material-support flag, look-alikes, and what an
instrument alone does (nothing)."""

from __future__ import annotations

from bastion.decide import decide
from bastion.decide.policy import parse_policy
from bastion.finance.analysis import FinanceAnalysis
from bastion.finance.appeals import find_appeal
from bastion.finance.findings import CRYPTO_ADDRESS, Instrument
from bastion.finance.screening import ScreeningHit

from .helpers import result, score

WALLET = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def _instrument(*, folded: bool = False) -> Instrument:
    return Instrument(CRYPTO_ADDRESS, "btc", WALLET, WALLET, 10, 52, folded=folded)


def _hit(kind: str = "wallet") -> ScreeningHit:
    return ScreeningHit(
        match_kind=kind,
        matched=f"btc:{WALLET}" if kind == "wallet" else "Yusuf Haddad",
        listed=WALLET,
        score=1.0 if kind == "wallet" else 0.93,
        explanation="exact",
        list_id=1,
        list_source="ofac_sdn",
        list_name="OFAC SDN",
        list_published="2026-11-20",
        entity_id=7,
        external_id="48213",
        caption="AL-NASR FUNDRAISING NETWORK",
        schema="Organization",
        programs=["SDGT"],
    )


def test_an_instrument_alone_opens_nothing() -> None:
    item = result()
    item.finance = FinanceAnalysis(instruments=[_instrument()])
    assert decide(item).action == "none"


def test_a_listed_wallet_goes_to_review_naming_the_entry() -> None:
    item = result()
    item.finance = FinanceAnalysis(instruments=[_instrument(folded=True)], hits=[_hit()])
    verdict = decide(item)
    assert (verdict.action, verdict.priority, verdict.labels) == ("review", 95, ["tvec4"])
    assert "OFAC SDN 48213 (AL-NASR FUNDRAISING NETWORK)" in verdict.reasons[0]
    assert "look-alike" in verdict.reasons[0] and "sanctions_wallet" in verdict.flags


def test_a_listed_name_in_the_text_is_a_lower_priority_review() -> None:
    item = result()
    item.finance = FinanceAnalysis(hits=[_hit("name")])
    assert decide(item).priority == 60


def test_appeal_wording_or_a_material_support_flag_beside_an_instrument() -> None:
    worded = result()
    worded.finance = FinanceAnalysis(
        instruments=[_instrument()], appeal=find_appeal("support the mujahideen")
    )
    flagged = result(scores=[score("tvec4", 0.8)])
    flagged.finance = FinanceAnalysis(instruments=[_instrument()])
    charity = result()
    charity.finance = FinanceAnalysis(
        instruments=[_instrument()], appeal=find_appeal("donate zakat sadaqah donations")
    )
    assert decide(worded).priority == 80 and "donation_appeal" in decide(worded).flags
    assert decide(flagged).priority >= 80
    assert any("TVEC.4" in reason for reason in decide(flagged).reasons)
    assert "donation_appeal" not in decide(charity).flags


def test_the_policy_sets_the_priorities_or_turns_the_rules_off() -> None:
    item = result()
    item.finance = FinanceAnalysis(instruments=[_instrument()], hits=[_hit()])
    custom = parse_policy({"finance": {"sanctions_wallet_priority": 70, "obfuscation_bonus": 0}})
    assert decide(item, custom).priority == 70
    off = parse_policy({"finance": {"enabled": False}})
    assert decide(item, off).action == "none"
