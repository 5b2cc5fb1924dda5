"""Every default rule of the verdict stage, its reason text, and how the rules combine."""

from __future__ import annotations

import pytest

from bastion.decide import ACT, NONE, REVIEW, Policy, decide, parse_policy
from tests.decide.helpers import bank, banks, entity, match, result, score

TRUSTED = banks(bank())


def test_near_exact_pdq_in_trusted_bank_acts() -> None:
    verdict = decide(result(match(distance=4)), Policy(), TRUSTED)
    assert verdict.action == ACT
    assert verdict.priority == 80  # critical bank
    assert verdict.reasons == [
        "auto-action rule: PDQ match 4 bits from entry 12 in trusted bank 'attack-footage' "
        "(threshold 31): near-exact, acted automatically"
    ]
    assert verdict.category == "tvec1"
    assert verdict.labels == ["tvec1"]
    assert verdict.flags == ["trusted_match"]
    assert verdict.escalate is False
    assert verdict.language is None


def test_exact_hash_in_trusted_bank_acts() -> None:
    found = match(signal_type="sha256", distance=0, threshold=0)
    verdict = decide(result(found), Policy(), banks(bank(severity="high")))
    assert verdict.action == ACT
    assert verdict.priority == 60
    assert verdict.reasons == [
        "auto-action rule: SHA-256 identical to entry 12 in trusted bank 'attack-footage': "
        "near-exact, acted automatically"
    ]


def test_pdq_past_near_exact_distance_goes_to_review_as_low_confidence() -> None:
    verdict = decide(result(match(distance=18)), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert verdict.priority == 80
    assert verdict.reasons == [
        "match review rule: PDQ match 18 bits from entry 12 in trusted bank 'attack-footage' "
        "(threshold 31): review (low confidence: distance 18 bits is more than the 10 bits that "
        "acts automatically)"
    ]
    assert "low_confidence" in verdict.flags


def test_partner_and_exchange_banks_never_act_by_default() -> None:
    for source in ("partner", "exchange"):
        verdict = decide(result(match(distance=0)), Policy(), banks(bank(source=source)))
        assert verdict.action == REVIEW
        assert (
            f"the bank is not trusted to act: its source is {source} (only local banks act "
            "automatically)" in verdict.reasons[0]
        )
        assert "untrusted_bank" in verdict.flags


def test_medium_severity_bank_does_not_act() -> None:
    verdict = decide(
        result(match(distance=0, severity="medium")), Policy(), banks(bank(severity="medium"))
    )
    assert verdict.action == REVIEW
    assert verdict.priority == 40
    assert (
        "its severity is medium (only high, critical banks act automatically)"
        in (verdict.reasons[0])
    )


def test_bank_without_details_acts_only_when_named() -> None:
    verdict = decide(result(match(distance=0)), Policy(), {})
    assert verdict.action == REVIEW
    assert "the bank's details are unknown" in verdict.reasons[0]
    named = parse_policy({"auto_action": {"banks": ["attack-footage"]}})
    assert decide(result(match(distance=0)), named, {}).action == ACT


def test_excluded_bank_never_acts() -> None:
    policy = parse_policy({"auto_action": {"exclude": ["attack-footage"]}})
    verdict = decide(result(match(distance=0)), policy, TRUSTED)
    assert verdict.action == REVIEW
    assert "the policy excludes this bank from automatic action" in verdict.reasons[0]


def test_trusted_labels_narrow_the_trusted_banks() -> None:
    policy = parse_policy({"auto_action": {"labels": ["tvec5"]}})
    verdict = decide(result(match(distance=0)), policy, TRUSTED)
    assert verdict.action == REVIEW
    assert "it carries none of the labels tvec5 that act automatically" in verdict.reasons[0]


def test_signal_types_not_listed_never_act() -> None:
    found = match(signal_type="text_minhash", distance=2, threshold=50)
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert (
        "Text near-duplicate (MinHash) matches never act automatically under this policy"
        in (verdict.reasons[0])
    )


def test_vpdq_acts_on_shared_frames() -> None:
    detail = {"query_match_percent": 96.0, "bank_match_percent": 40.0}
    found = match(signal_type="vpdq", distance=0, threshold=31, detail=detail)
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == ACT
    assert verdict.reasons == [
        "auto-action rule: vPDQ match to entry 12 in trusted bank 'attack-footage': 96% of the "
        "item's frames and 40% of the banked video's frames matched: near-exact, acted "
        "automatically"
    ]
    weak = match(
        signal_type="vpdq",
        threshold=31,
        detail={"query_match_percent": 82.0, "bank_match_percent": 85.0},
    )
    verdict = decide(result(weak), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert "85% of frames shared is less than the 90% that acts automatically" in verdict.reasons[0]


def test_robust_variant_match_goes_to_review_unless_allowed() -> None:
    found = match(distance=3, variant="mirror", bank_variant="pdq")
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert verdict.reasons == [
        "match review rule: PDQ match 3 bits from entry 12 in trusted bank 'attack-footage' "
        "(threshold 31), found through variant mirror of the item and pdq of the banked item: "
        "review (robust-variant matches go to review under this policy)"
    ]
    assert "robust_variant" in verdict.flags
    allowed = parse_policy({"auto_action": {"variants": True}})
    assert decide(result(found), allowed, TRUSTED).action == ACT


def test_quarantined_entry_goes_to_review_never_acts() -> None:
    found = match(distance=0, review_only=True, review_reason="disputed by partner")
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert verdict.reasons == [
        "quarantine rule: PDQ match 0 bits from entry 12 in trusted bank 'attack-footage' "
        "(threshold 31), but the entry is quarantined: disputed by partner; review only, never "
        "automatic action"
    ]
    assert verdict.flags == ["quarantined"]


def test_suppressed_match_never_acts_nor_reviews() -> None:
    found = match(
        distance=0, suppressed=True, suppressed_by={"bank": "false-positives", "entry_id": 3}
    )
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == NONE
    assert verdict.priority == 0
    assert verdict.reasons == [
        "suppression rule: PDQ match 0 bits from entry 12 in bank 'attack-footage' (threshold "
        "31) is a known false positive (entry 3 in bank 'false-positives'); ignored, never "
        "acted on"
    ]
    assert verdict.labels == []
    assert verdict.category is None


def test_suppressed_threat_label_does_not_escalate() -> None:
    found = match(distance=0, labels=["tvec2"], suppressed=True)
    verdict = decide(result(found), Policy(), TRUSTED)
    assert (verdict.action, verdict.escalate, verdict.priority) == (NONE, False, 0)


def test_negative_bank_match_is_not_evidence() -> None:
    found = match("false-positives", bank_kind="negative", distance=0)
    verdict = decide(result(found), Policy(), TRUSTED)
    assert verdict.action == NONE
    assert "a bank of known false positives, not evidence of TVEC" in verdict.reasons[0]


def test_classifier_flag_goes_to_review_with_weighted_priority() -> None:
    verdict = decide(result(scores=[score("tvec7", 0.9), score("tvec3", 0.2)]), Policy(), {})
    assert verdict.action == REVIEW
    assert verdict.priority == 54  # weight 60 x 0.9
    assert verdict.reasons == [
        "classifier rule: classifier flagged tvec7 (Support or praise): score 0.90, threshold "
        "0.50, model tvec-test@1; review, never automatic action (priority 54: category weight "
        "60 x score 0.90, at least 40)"
    ]
    assert verdict.category == "tvec7"
    assert verdict.language == "en"


def test_classifier_priority_has_a_floor() -> None:
    verdict = decide(result(scores=[score("tvec7", 0.55)]), Policy(), {})
    assert verdict.priority == 40


def test_classifier_review_can_be_turned_off() -> None:
    policy = parse_policy({"classifier": {"enabled": False}})
    verdict = decide(result(scores=[score("tvec7", 0.9)]), policy, {})
    assert verdict.action == NONE
    assert "classifier review is turned off by the policy, ignored" in verdict.reasons[0]


def test_classifier_flag_never_makes_a_weak_match_act() -> None:
    verdict = decide(result(match(distance=20), scores=[score("tvec1", 0.99)]), Policy(), TRUSTED)
    assert verdict.action == REVIEW


def test_threat_to_life_from_classifier_escalates_at_top_priority() -> None:
    verdict = decide(result(scores=[score("tvec2", 0.8), score("tvec7", 0.9)]), Policy(), {})
    assert verdict.action == REVIEW
    assert verdict.priority == 100
    assert verdict.escalate is True
    assert verdict.category == "tvec2"
    assert verdict.labels == ["tvec2", "tvec7"]
    assert verdict.reasons[0] == (
        "threat-to-life rule: classifier flagged tvec2 (Credible threat to life): score 0.80, "
        "threshold 0.50, model tvec-test@1; top of the queue, escalation requested"
    )
    assert "threat_to_life" in verdict.flags


def test_threat_to_life_from_a_match_escalates_and_still_acts() -> None:
    verdict = decide(result(match(distance=0, labels=["tvec2"])), Policy(), TRUSTED)
    assert verdict.action == ACT
    assert (verdict.priority, verdict.escalate, verdict.category) == (100, True, "tvec2")
    assert verdict.reasons[0] == (
        "threat-to-life rule: entry 12 in bank 'attack-footage' is labelled tvec2 (Credible "
        "threat to life): top of the queue, escalation requested"
    )


def test_threat_to_life_on_a_quarantined_entry_escalates_for_review() -> None:
    found = match(distance=0, labels=["tvec2"], review_only=True)
    verdict = decide(result(found), Policy(), TRUSTED)
    assert (verdict.action, verdict.priority, verdict.escalate) == (REVIEW, 100, True)


def test_escalation_can_be_turned_off() -> None:
    policy = parse_policy({"threat_to_life": {"escalate": False, "priority": 90}})
    verdict = decide(result(scores=[score("tvec2", 0.8)]), policy, {})
    assert (verdict.priority, verdict.escalate) == (90, False)
    assert verdict.reasons[0].endswith("top of the queue")


def test_exception_alone_goes_to_review() -> None:
    verdict = decide(result(scores=[score("tvec01", 0.8)]), Policy(), {})
    assert verdict.action == REVIEW
    assert verdict.priority == 40
    assert verdict.reasons == [
        "classifier found educational, journalistic or research context (TVEC.01 score 0.80, "
        "threshold 0.50, model tvec-test@1)",
        "TVEC.01 exception rule: the item looks educational, journalistic or research material; "
        "a person decides, never automatic action",
    ]
    assert verdict.category == "tvec01"
    assert verdict.flags == ["exception"]


def test_exception_holds_back_even_a_trusted_exact_match() -> None:
    verdict = decide(result(match(distance=0), scores=[score("tvec01", 0.8)]), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert verdict.priority == 80
    assert (
        "auto-action rule: PDQ match 0 bits from entry 12 in trusted bank 'attack-footage' "
        "(threshold 31): near-exact, but the TVEC.01 exception holds back automatic action; review"
    ) in verdict.reasons
    assert {"action_blocked", "exception", "trusted_match"} <= set(verdict.flags)
    assert verdict.category == "tvec1"


def test_exception_from_a_bank_label_holds_back_action() -> None:
    verdict = decide(result(match(distance=0, labels=["tvec01", "tvec1"])), Policy(), TRUSTED)
    assert verdict.action == REVIEW
    assert (
        "entry 12 in bank 'attack-footage' is labelled tvec01 (educational, journalistic or "
        "research material)"
    ) in verdict.reasons


def test_exception_with_threat_to_life_reviews_and_escalates() -> None:
    found = result(match(distance=0), scores=[score("tvec01", 0.7), score("tvec2", 0.9)])
    verdict = decide(found, Policy(), TRUSTED)
    assert (verdict.action, verdict.priority, verdict.escalate) == (REVIEW, 100, True)
    assert verdict.category == "tvec2"


def test_exception_review_can_be_turned_off_but_never_allows_action() -> None:
    policy = parse_policy({"exception": {"review": False}})
    assert decide(result(scores=[score("tvec01", 0.8)]), policy, {}).action == NONE
    verdict = decide(result(match(distance=0), scores=[score("tvec01", 0.8)]), policy, TRUSTED)
    assert verdict.action == REVIEW


def test_designated_entity_goes_to_review() -> None:
    verdict = decide(result(entities=[entity(), entity()]), Policy(), {})
    assert verdict.action == REVIEW
    assert verdict.priority == 40
    assert verdict.reasons == [
        "designated-entity rule: the text names Islamic State (organisation, designated by EU, "
        "UN; matched 'Islamic State' at characters 10-23); review: naming a group is also what "
        "news and research do"
    ]
    assert verdict.flags == ["entity"]
    assert verdict.labels == ["tvec7"]


def test_entity_with_inherited_designation_says_through_whom() -> None:
    hit = entity("amaq", name="Amaq", kind="media_outlet", parent="isil", inherited=True)
    verdict = decide(result(entities=[hit]), Policy(), {})
    assert "(media outlet, designated through isil by EU, UN;" in verdict.reasons[0]


def test_undesignated_or_filtered_entities_are_ignored() -> None:
    assert decide(result(entities=[entity(lists=())]), Policy(), {}).action == NONE
    policy = parse_policy({"entities": {"lists": ["UK"]}})
    assert decide(result(entities=[entity()]), policy, {}).action == NONE
    policy = parse_policy({"entities": {"kinds": ["slogan"]}})
    assert decide(result(entities=[entity()]), policy, {}).action == NONE


def test_nothing_found_is_none_with_a_reason() -> None:
    verdict = decide(result(scores=[score("tvec7", 0.1)]), Policy(), {})
    assert verdict.action == NONE
    assert verdict.priority == 0
    assert verdict.reasons == ["no match, classifier flag or designated entity: nothing to do"]
    assert verdict.language == "en"


def test_automatic_action_can_be_turned_off() -> None:
    policy = parse_policy({"auto_action": {"enabled": False}})
    verdict = decide(result(match(distance=0)), policy, TRUSTED)
    assert verdict.action == REVIEW
    assert "automatic action is turned off by the policy" in verdict.reasons[0]


def test_match_review_can_be_turned_off() -> None:
    policy = parse_policy({"matches": {"enabled": False}})
    verdict = decide(result(match(distance=25)), policy, TRUSTED)
    assert verdict.action == NONE


def test_one_trusted_match_acts_beside_weaker_evidence() -> None:
    found = result(
        match(distance=25, entry_id=1),
        match(distance=2, entry_id=2, labels=["tvec5"]),
        scores=[score("tvec7", 0.95)],
    )
    verdict = decide(found, Policy(), TRUSTED)
    assert verdict.action == ACT
    assert verdict.priority == 80
    assert len(verdict.reasons) == 3
    assert verdict.labels == ["tvec1", "tvec5", "tvec7"]
    assert verdict.category == "tvec5"  # the code of the match that acted


def test_verdict_is_frozen_and_serialises() -> None:
    verdict = decide(result(match(distance=0)), Policy(), TRUSTED)
    with pytest.raises(AttributeError):
        verdict.action = NONE  # type: ignore[misc]
    assert verdict.to_dict()["action"] == ACT
    assert verdict.to_dict()["flags"] == ["trusted_match"]


def test_default_policy_is_the_default_argument() -> None:
    assert decide(result(match(distance=0)), banks=TRUSTED).action == ACT
