"""The numbers behind the dashboard: open cases by priority band, decisions by day and outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.review.cases import CRITICAL_PRIORITY, HIGH_PRIORITY, LIVE_STREAM_PRIORITY
from bastion.review.decisions import CONFIRM, ESCALATE, FALSE_POSITIVE
from bastion.storage.models import CaseRow, DecisionRow, utcnow
from bastion.web.charts import Chart, grouped_bars

BANDS = (
    ("Live stream", LIVE_STREAM_PRIORITY),
    ("Critical", CRITICAL_PRIORITY),
    ("High", HIGH_PRIORITY),
    ("Other", 0),
)
OUTCOME_SERIES = (
    ("bar-confirm", "confirmed"),
    ("bar-false-positive", "false positive"),
    ("bar-escalate", "escalated"),
)
_OUTCOME_INDEX = {CONFIRM: 0, FALSE_POSITIVE: 1, ESCALATE: 2}
DAYS = 7


def priority_chart(session: Session) -> Chart:
    counts = [0] * len(BANDS)
    query = (
        select(CaseRow.priority, func.count(CaseRow.id))
        .where(CaseRow.status == "open")
        .group_by(CaseRow.priority)
    )
    for priority, count in session.execute(query):
        band = next(i for i, (_, floor) in enumerate(BANDS) if priority >= floor)
        counts[band] += int(count)
    groups = [(name, [count]) for (name, _), count in zip(BANDS, counts, strict=True)]
    return grouped_bars("Open cases by priority band", groups, [("bar-open", "open cases")])


def decisions_chart(session: Session) -> Chart:
    today = utcnow().date()
    first = today - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    counts = {day: [0, 0, 0] for day in days}
    since = utcnow() - timedelta(days=DAYS + 1)
    query = select(DecisionRow.decided_at, DecisionRow.outcome).where(
        DecisionRow.decided_at >= since
    )
    for decided_at, outcome in session.execute(query):
        day = decided_at.date()
        if day in counts and outcome in _OUTCOME_INDEX:
            counts[day][_OUTCOME_INDEX[outcome]] += 1
    groups = [(day.strftime("%a %d"), counts[day]) for day in days]
    return grouped_bars(f"Decisions by outcome, last {DAYS} days", groups, OUTCOME_SERIES)
