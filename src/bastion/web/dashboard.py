"""The numbers behind the dashboard.

Counting happens in the database (``GROUP BY``) wherever the grouping is a plain column or an
expression both SQLite and PostgreSQL evaluate alike. Bucketing by calendar day (UTC) is done in
Python over the rows of the window, capped at :data:`MAX_ROWS`, because the two databases disagree
on date functions over time-zone-aware timestamps.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bastion.review.cases import CRITICAL_PRIORITY, HIGH_PRIORITY, LIVE_STREAM_PRIORITY
from bastion.review.decisions import CONFIRM, ESCALATE, FALSE_POSITIVE
from bastion.storage.models import AlertRow, CaseRow, DecisionRow, MatchRow, utcnow
from bastion.web.charts import Chart, grouped_bars, line_points

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
MATCH_DAYS: Final = 14
TOP_BANKS: Final = 5
DECISION_DAYS: Final = 30
LATENCY_DAYS: Final = 14
TOP_GROUPS: Final = 8
MAX_ROWS: Final = 50_000
# Open cases by how long they have waited: (label, upper bound in hours; None for the rest).
AGE_BANDS: Final = (("< 1 h", 1), ("1-4 h", 4), ("4-24 h", 24), ("> 24 h", None))
STREAM_MATCH: Final = "stream_match"


def _days(count: int) -> list[date]:
    today = utcnow().date()
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def _day_label(day: date) -> str:
    return day.strftime("%m-%d")


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
    return grouped_bars(
        "Open cases by priority band",
        groups,
        [("bar-open", "open cases")],
        group_name="Priority band",
    )


def decisions_chart(session: Session) -> Chart:
    days = _days(DAYS)
    counts = {day: [0, 0, 0] for day in days}
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=utcnow().tzinfo)
    query = (
        select(DecisionRow.decided_at, DecisionRow.outcome)
        .where(DecisionRow.decided_at >= since)
        .limit(MAX_ROWS)
    )
    for decided_at, outcome in session.execute(query):
        day = decided_at.date()
        if day in counts and outcome in _OUTCOME_INDEX:
            counts[day][_OUTCOME_INDEX[outcome]] += 1
    groups = [(day.strftime("%a %d"), counts[day]) for day in days]
    return grouped_bars(
        f"Decisions by outcome, last {DAYS} days", groups, OUTCOME_SERIES, group_name="Day"
    )


def queue_age_chart(session: Session) -> Chart:
    """Open cases by how long they have waited, split into within deadline and overdue."""
    now = utcnow()
    bounds = [hours for _, hours in AGE_BANDS if hours is not None]
    band = case(
        *(
            (CaseRow.created_at >= now - timedelta(hours=hours), index)
            for index, hours in enumerate(bounds)
        ),
        else_=len(bounds),
    )
    overdue = case((CaseRow.due_at < now, 1), else_=0)
    # Grouped through a subquery: PostgreSQL does not see two renderings of an expression with
    # bound parameters (select list and GROUP BY) as the same expression.
    banded = (
        select(band.label("band"), overdue.label("late")).where(CaseRow.status == "open").subquery()
    )
    query = select(banded.c.band, banded.c.late, func.count()).group_by(
        banded.c.band, banded.c.late
    )
    counts = [[0, 0] for _ in AGE_BANDS]
    for index, late, count in session.execute(query):
        counts[int(index)][int(late)] += int(count)
    groups = [(name, counts[i]) for i, (name, _) in enumerate(AGE_BANDS)]
    return grouped_bars(
        "Queue: open cases by age",
        groups,
        [("bar-open", "within deadline"), ("bar-overdue", "overdue")],
        group_name="Waiting",
    )


def bank_matches_chart(session: Session) -> Chart:
    """Matches per day over the last :data:`MATCH_DAYS` days for the busiest banks."""
    days = _days(MATCH_DAYS)
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=utcnow().tzinfo)
    window = MatchRow.created_at >= since
    top = [
        name
        for name, _ in session.execute(
            select(MatchRow.bank_name, func.count(MatchRow.id))
            .where(window)
            .group_by(MatchRow.bank_name)
            .order_by(func.count(MatchRow.id).desc(), MatchRow.bank_name)
            .limit(TOP_BANKS)
        )
    ]
    counts: dict[tuple[str, date], int] = Counter()
    if top:
        rows = session.execute(
            select(MatchRow.bank_name, MatchRow.created_at)
            .where(window, MatchRow.bank_name.in_(top))
            .limit(MAX_ROWS)
        )
        for bank, created_at in rows:
            counts[bank, created_at.date()] += 1
    series = [(f"bar-s{n + 1}", bank) for n, bank in enumerate(top)]
    groups = [(_day_label(day), [counts[bank, day] for bank in top]) for day in days]
    return grouped_bars(
        f"Matches per bank, last {MATCH_DAYS} days (top {TOP_BANKS} banks)",
        groups,
        series,
        group_name="Day",
    )


def _decisions_by(session: Session, column: Any, title: str, group_name: str) -> Chart:
    since = utcnow() - timedelta(days=DECISION_DAYS)
    query = (
        select(column, DecisionRow.outcome, func.count(DecisionRow.id))
        .join(CaseRow, CaseRow.id == DecisionRow.case_id)
        .where(DecisionRow.decided_at >= since)
        .group_by(column, DecisionRow.outcome)
    )
    counts: dict[str, list[int]] = {}
    for key, outcome, count in session.execute(query):
        if outcome in _OUTCOME_INDEX:
            counts.setdefault(key or "none", [0, 0, 0])[_OUTCOME_INDEX[outcome]] += int(count)
    busiest = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))[:TOP_GROUPS]
    return grouped_bars(title, busiest, OUTCOME_SERIES, group_name=group_name)


def category_chart(session: Session) -> Chart:
    return _decisions_by(
        session,
        CaseRow.category,
        f"Decisions by TVEC category, last {DECISION_DAYS} days",
        "Category",
    )


def language_chart(session: Session) -> Chart:
    return _decisions_by(
        session, CaseRow.language, f"Decisions by language, last {DECISION_DAYS} days", "Language"
    )


def _latency(details: dict[str, Any]) -> float | None:
    for key in ("webhook_latency_seconds", "latency_seconds"):
        value = details.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


def percentile(values: Iterable[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0-1) of non-empty ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(round(share * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_chart(session: Session) -> Chart:
    """Median and 95th percentile of stream alert latency per day (seconds)."""
    days = _days(LATENCY_DAYS)
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=utcnow().tzinfo)
    rows = session.execute(
        select(AlertRow.created_at, AlertRow.details)
        .where(AlertRow.kind == STREAM_MATCH, AlertRow.created_at >= since)
        .limit(MAX_ROWS)
    )
    by_day: dict[date, list[float]] = {}
    for created_at, details in rows:
        latency = _latency(details or {})
        if latency is not None:
            by_day.setdefault(created_at.date(), []).append(latency)
    groups: list[tuple[str, list[float | None]]] = []
    for day in days:
        values = by_day.get(day)
        if values:
            groups.append(
                (_day_label(day), [round(statistics.median(values), 2), percentile(values, 0.95)])
            )
        else:
            groups.append((_day_label(day), [None, None]))
    return line_points(
        f"Stream alert latency, last {LATENCY_DAYS} days",
        groups,
        [("line-median", "median"), ("line-p95", "95th percentile")],
        group_name="Day",
        unit=" s",
    )


def dashboard_charts(session: Session) -> list[Chart]:
    return [
        queue_age_chart(session),
        priority_chart(session),
        bank_matches_chart(session),
        latency_chart(session),
        decisions_chart(session),
        category_chart(session),
        language_chart(session),
    ]
