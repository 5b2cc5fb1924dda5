"""Reviewers' verdicts become feedback to the partner whose feed brought the matched entry.

A confirmed match is a sighting ("we have seen this too"); a false positive is a dispute (an
opinion that disagrees). Only entries that came from a subscription have a partner to tell; for
the rest the hook does nothing. It queues inside the decision's transaction (a savepoint, so a
feedback problem never undoes a decision); delivery is the poll loop's job.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bastion.errors import BastionError
from bastion.review.decisions import EntryVerdictHook
from bastion.share.feedback import FeedbackQueue

log = logging.getLogger(__name__)


def feedback_on_verdicts(feedback: FeedbackQueue) -> EntryVerdictHook:
    def hook(session: Session, entry_id: int, outcome: str, actor: str) -> None:
        confirmed = outcome == "confirm"
        try:
            with session.begin_nested():
                feedback.queue_feedback(
                    session,
                    entry_id=entry_id,
                    kind="sighting" if confirmed else "opinion",
                    actor=actor,
                    opinion="" if confirmed else "disagree",
                    explanation="" if confirmed else "A reviewer decided this match was wrong.",
                )
        except BastionError as error:
            log.warning(
                "no feedback for entry %s after a %s verdict: %s", entry_id, outcome, error.code
            )

    return hook
