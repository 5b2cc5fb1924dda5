"""The verdict stage: configurable rules turn a scan result into ``act``, ``review`` or ``none``.

See docs/decisions.md for the rules, their defaults and their precedence.
"""

from bastion.decide.policies import Policies, PolicyVersion
from bastion.decide.policy import DEFAULT_POLICY, Policy, parse_policy
from bastion.decide.verdict import ACT, NONE, REVIEW, Verdict, decide

__all__ = [
    "ACT",
    "DEFAULT_POLICY",
    "NONE",
    "REVIEW",
    "Policies",
    "Policy",
    "PolicyVersion",
    "Verdict",
    "decide",
    "parse_policy",
]
