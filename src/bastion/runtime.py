"""Wires Bastion's parts together from settings: what the API, CLI and demo share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bastion.accounts.keys import ApiKeys
from bastion.accounts.sessions import Sessions
from bastion.accounts.users import Users
from bastion.act.escalation import Escalations
from bastion.act.ledger import ActionLedger
from bastion.act.redirect import RedirectResources, Redirects
from bastion.audit import AuditLog
from bastion.banks.incidents import Incidents
from bastion.banks.service import Banks
from bastion.decide.policies import Policies
from bastion.finance.list_import import ListImporter
from bastion.finance.list_store import SanctionsLists
from bastion.match.alerts import Alerts
from bastion.match.scanner import Scanner
from bastion.review.cases import Cases
from bastion.review.decisions import Decisions
from bastion.review.queue import Queue
from bastion.review.workflow import Workbench
from bastion.settings import Settings
from bastion.share.feedback import FeedbackQueue
from bastion.share.partners import Partners
from bastion.share.subscriptions import Subscriptions
from bastion.share.verdict_feedback import feedback_on_verdicts
from bastion.storage.db import Database

if TYPE_CHECKING:
    from bastion.stream.manager import StreamManager


@dataclass
class Bastion:
    settings: Settings
    db: Database
    audit: AuditLog
    banks: Banks
    keys: ApiKeys
    scanner: Scanner
    alerts: Alerts
    cases: Cases
    incidents: Incidents
    users: Users
    sessions: Sessions
    queue: Queue
    decisions: Decisions
    policies: Policies
    actions: ActionLedger
    redirects: Redirects
    escalations: Escalations
    workbench: Workbench
    partners: Partners
    subscriptions: Subscriptions
    feedback: FeedbackQueue
    sanctions: SanctionsLists
    lists: ListImporter
    _streams: StreamManager | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, upgrade: bool = True) -> Bastion:
        """Open the database (applying migrations unless told not to) and build the services."""
        db = Database.from_settings(settings)
        if upgrade:
            db.upgrade()
        audit = AuditLog()
        banks = Banks(audit)
        cases = Cases(audit)
        # Configuration errors (a webhook URL without its secret, a bad redirect file) stop the
        # start-up here, not at the first decision.
        actions = ActionLedger.from_settings(settings, audit)
        decisions = Decisions(audit, cases, banks)
        policies = Policies(audit)
        escalations = Escalations(actions, audit)
        redirects = Redirects(actions, RedirectResources.from_settings(settings))
        partners = Partners(
            audit,
            settings.data_dir,
            settings.secret_key.get_secret_value() if settings.secret_key else None,
        )
        subscriptions = Subscriptions(db, settings, audit, banks, partners)
        feedback = FeedbackQueue(db, audit, subscriptions)
        if settings.share_auto_feedback:
            # Reviewers' verdicts on partner-fed entries go back as sightings and disputes.
            decisions.entry_verdict_hooks.append(feedback_on_verdicts(feedback))
        sanctions = SanctionsLists(audit, max_bytes=settings.finance_max_list_bytes)
        return cls(
            settings=settings,
            db=db,
            audit=audit,
            banks=banks,
            keys=ApiKeys(audit),
            scanner=Scanner(db, settings, audit, banks),
            alerts=Alerts(audit),
            cases=cases,
            incidents=Incidents(audit, banks),
            users=Users(
                audit,
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
            ),
            sessions=Sessions(
                audit,
                lifetime=timedelta(hours=settings.session_lifetime_hours),
                idle=timedelta(minutes=settings.session_idle_minutes),
            ),
            queue=Queue(audit, cases),
            decisions=decisions,
            policies=policies,
            actions=actions,
            redirects=redirects,
            escalations=escalations,
            workbench=Workbench(cases, decisions, policies, actions, escalations, redirects),
            partners=partners,
            subscriptions=subscriptions,
            feedback=feedback,
            sanctions=sanctions,
            lists=ListImporter(sanctions, cases, policies),
        )

    @property
    def streams(self) -> StreamManager:
        """The streams this process watches, started on first use (watchers are threads)."""
        if self._streams is None:
            from bastion.stream.manager import StreamManager  # PyAV loads only when needed

            self._streams = StreamManager(self)
        return self._streams

    def close(self) -> None:
        if self._streams is not None:
            self._streams.close()
        self.db.dispose()
