"""One lock for writers of append-only logs whose order readers rely on.

PostgreSQL draws ids from a sequence when a row is inserted, not when it commits, so two
concurrent transactions can commit ids out of order. A reader that has applied change 119 would
then never see change 100 committed a moment later. Holding one transaction-scoped advisory lock
from before the first such insert until commit makes ids follow commit order. SQLite already
allows a single writer at a time, so there it is a no-op.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Any constant shared by all writers ("bastion" in ASCII).
_ORDERED_LOG_KEY = 0x6261_7374_696F_6E


def serialize_ordered_writes(session: Session) -> None:
    """Block other ordered-log writers until this transaction ends. Re-entrant."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDERED_LOG_KEY})
