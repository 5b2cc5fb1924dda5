"""``bastion share subscribe|subscriptions|poll|unsubscribe|collections|feedback``: partner feeds.

The commands are added to the ``bastion share`` app by :func:`register`, so this module owns
them without owning that app.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_record, print_rows
from bastion.errors import InvalidInput
from bastion.share.subscriptions import SubscriptionInfo

_COLUMNS = (
    "id",
    "partner",
    "bank",
    "remote_collection",
    "enabled",
    "interval_seconds",
    "require_signature",
    "last_success_at",
    "last_error_code",
    "entries_added",
)


def _row(info: SubscriptionInfo) -> list[Any]:
    record = info.to_dict()
    return [record[column] for column in _COLUMNS]


def subscribe(
    partner: Annotated[str, typer.Argument(help="The partner's name (bastion share partners).")],
    bank: Annotated[str, typer.Argument(help="The local bank the feed fills.")],
    remote_collection: Annotated[str, typer.Argument(help="The remote collection id.")],
    api_root: Annotated[
        str, typer.Option("--api-root", help="TAXII API root URL; default: the partner's url.")
    ] = "",
    interval: Annotated[
        float | None, typer.Option("--interval", help="Seconds between polls.")
    ] = None,
    no_signature: Annotated[
        bool,
        typer.Option("--no-signature", help="Accept unsigned pages (third-party TAXII servers)."),
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Subscribe BANK to a partner's REMOTE_COLLECTION; it is polled at once by `bastion serve`
    (or by `bastion share poll`)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.subscriptions.create(
            session,
            partner=partner,
            bank=bank,
            remote_collection=remote_collection,
            api_root=api_root,
            interval_seconds=interval,
            require_signature=False if no_signature else None,
            actor=cli_actor(),
        )
        print_record(info.to_dict(), fmt)


def subscriptions(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List subscriptions to partner feeds."""
    with open_bastion() as bastion, bastion.db.session() as session:
        found = bastion.subscriptions.list(session)
    print_rows(
        fmt,
        _COLUMNS,
        [_row(info) for info in found],
        document={"subscriptions": [info.to_dict() for info in found]},
        empty="no subscriptions",
    )


def poll(
    subscription_id: Annotated[
        int | None, typer.Argument(help="The subscription to poll.", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Poll every due subscription.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Poll one subscription now (or, with --all, every one that is due) and show what it did."""
    if (subscription_id is None) == (not every):
        raise InvalidInput("give a subscription id or --all (not both)")
    with open_bastion() as bastion:
        if every:
            reports = bastion.subscriptions.poll_due()
        else:
            assert subscription_id is not None  # checked above
            reports = [bastion.subscriptions.poll(subscription_id, actor=cli_actor())]
    if not reports:
        note("no subscription is due")
    for report in reports:
        record = report.summary()
        print_record(record, fmt)
    if any(report.error_code for report in reports):
        raise typer.Exit(1)


def unsubscribe(
    subscription_id: Annotated[int, typer.Argument(help="The subscription to delete.")],
) -> None:
    """Delete a subscription; the entries it brought stay in the bank."""
    with open_bastion() as bastion, bastion.db.session() as session:
        bastion.subscriptions.delete(session, subscription_id, actor=cli_actor())
    note(f"subscription {subscription_id} deleted")


def collections(
    partner: Annotated[str, typer.Argument(help="A partner of kind bastion or taxii.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the collections a partner's TAXII server offers (to pick one to subscribe to)."""
    with open_bastion() as bastion:
        with bastion.db.session() as session:
            info = bastion.partners.get(session, partner)
            credentials = bastion.partners.credentials(session, partner)
        found = bastion.subscriptions.remote_collections(info, credentials)
    columns = ("id", "title", "can_read", "api_root")
    print_rows(
        fmt,
        columns,
        [[item[c] for c in columns] for item in found],
        document={"partner": partner, "collections": found},
        empty="the partner offers no collection to this key",
    )


def feedback(
    bank: Annotated[str, typer.Argument(help="The bank holding the entry.")],
    entry_id: Annotated[int, typer.Argument(help="The entry (from a partner's feed).")],
    kind: Annotated[str, typer.Argument(help="sighting or dispute.")],
    explanation: Annotated[str, typer.Option("--explanation", help="Why (for disputes).")] = "",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Tell the partner whose feed brought the entry that we saw it too (sighting) or that we
    think it is wrong (dispute: an opinion of 'disagree'), and send it now."""
    if kind not in ("sighting", "dispute"):
        raise InvalidInput("feedback is 'sighting' or 'dispute'")
    with open_bastion() as bastion:
        with bastion.db.session() as session:
            row = bastion.feedback.queue_feedback(
                session,
                bank=bank,
                entry_id=entry_id,
                kind="sighting" if kind == "sighting" else "opinion",
                opinion="disagree" if kind == "dispute" else "",
                explanation=explanation,
                actor=cli_actor(),
            )
            feedback_id = row.id if row is not None else None
        if feedback_id is None:
            raise InvalidInput(f"entry {entry_id} did not come from a partner's subscription")
        bastion.feedback.deliver_one(feedback_id)
        with bastion.db.session() as session:
            record = bastion.feedback.get(session, feedback_id)
    print_record(record, fmt)
    if record["status"] != "sent":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the subscription and feedback commands to ``app`` (``bastion share``)."""
    app.command("subscribe")(subscribe)
    app.command("subscriptions")(subscriptions)
    app.command("poll")(poll)
    app.command("unsubscribe")(unsubscribe)
    app.command("collections")(collections)
    app.command("feedback")(feedback)


app = typer.Typer(help="Subscriptions to partner feeds and feedback to partners.")
register(app)
