"""Partner and trusted-signer pages: create, change, enable, disable and delete partners, replace
their credentials, grant them banks' collections; trust and revoke partners' signing keys.

All partner changes go through :class:`bastion.share.partners.Partners`, which audits them. The
trust store is a file (:class:`bastion.share.signing.TrustStore`), so these pages audit its
changes themselves (``trust.add``, ``trust.revoke``): the audit event is written first and the
file changed inside the same unit of work, so a failed file change leaves no event behind.

Credentials are typed into password inputs and never shown again: a partner's page lists only
which credential fields are set. A TLP:RED bank is never granted (red never leaves this
instance), and the page says why instead of offering the checkbox.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from bastion.api.auth import BastionDep
from bastion.banks.records import Tlp
from bastion.errors import BastionError, InvalidInput
from bastion.runtime import Bastion
from bastion.share.partners import PartnerKind
from bastion.share.signing import TrustStore, fingerprint, parse_public_key
from bastion.storage.models import ApiKeyRow
from bastion.web.render import WebRoute, render
from bastion.web.routes_share import (
    checked,
    feedback_views,
    see_other,
    share_summary,
    subscription_views,
)
from bastion.web.session import Form, PostedForm, SignedIn, WebSession

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

CREDENTIAL_ROWS: Final = 4  # empty field/value pairs offered by a form
MAX_URL: Final = 2048
ShortText = Annotated[str | None, Query(max_length=64)]


def credentials_of(form: Form) -> dict[str, str]:
    """The field/value pairs typed into a form; a blank row is skipped, a half-filled one is
    refused (a value without a name, or a name without a value, is a typing mistake)."""
    names, values = form.all("cred_field"), form.all("cred_value")
    found: dict[str, str] = {}
    for index, name in enumerate(names):
        value = values[index] if index < len(values) else ""
        name = name.strip()
        if not name and not value:
            continue
        if not name or not value:
            raise InvalidInput("each credential needs both a field name and a value")
        if name in found:
            raise InvalidInput(f"the credential field {name[:64]!r} is given twice")
        found[name] = value
    return found


def _url(form: Form) -> str:
    url = form.get("url").strip()
    if len(url) > MAX_URL:
        raise InvalidInput(f"the URL is at most {MAX_URL} characters")
    if url and not url.lower().startswith(("https://", "http://")):
        raise InvalidInput("the URL starts with https:// (or http:// on a private network)")
    return url


def _signer(bastion: Bastion, form: Form) -> str:
    """The trusted signer chosen, which must be trusted (not revoked) now."""
    name = form.get("signer").strip()
    if name:
        signer = TrustStore.open(bastion.settings.data_dir).get(name)
        if signer.revoked:
            raise InvalidInput(f"the signer {name!r} is revoked")
    return name


def _live_signers(bastion: Bastion) -> list[str]:
    return [s.name for s in TrustStore.open(bastion.settings.data_dir).list() if not s.revoked]


# --- a new partner --------------------------------------------------------------------------


def _new_partner_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    *,
    problem: BastionError | None = None,
    form: Form | None = None,
) -> Response:
    return render(
        request,
        "sharing_partner_new.html",
        status=problem.status if problem is not None else 200,
        web=web,
        kinds=[k.value for k in PartnerKind],
        signers=_live_signers(bastion),
        problem=problem,
        form=form or Form({}),
        credential_rows=CREDENTIAL_ROWS,
    )


@router.get("/sharing/partners/new")
def new_partner_page(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("share.manage")
    return _new_partner_page(request, web, bastion)


@router.post("/sharing/partners")
def create_partner(
    request: Request, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("share.manage")
    name = form.get("name").strip()
    try:
        credentials = credentials_of(form)
        with bastion.db.session() as session:
            bastion.partners.create(
                session,
                name=name,
                kind=form.get("kind"),
                actor=web.user.actor,
                url=_url(form),
                api_key=form.get("api_key").strip()[:32] or None,
                amber=checked(form, "amber"),
                signer=_signer(bastion, form),
                credentials=credentials or None,
            )
    except BastionError as exc:
        # The form again with what was typed, except the credential values (never echoed).
        return _new_partner_page(request, web, bastion, problem=exc, form=form)
    return see_other(f"/ui/sharing/partners/{name}?done=created")


# --- one partner ----------------------------------------------------------------------------


def _partner_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    name: str,
    *,
    problem: BastionError | None = None,
    done: str | None = None,
) -> Response:
    with bastion.db.session() as session:
        partner = bastion.partners.get(session, name)
        key_prefix = ""
        if partner.api_key_id is not None:
            key = session.get(ApiKeyRow, partner.api_key_id)
            key_prefix = key.prefix if key is not None else ""
        banks = bastion.banks.list(session)
        subscriptions = subscription_views(session, partner=name)
        feedback = feedback_views(session, partner=name, limit=50)
        summary = share_summary(session, name)
    grants = {g.bank: g for g in partner.grants}
    return render(
        request,
        "sharing_partner.html",
        status=problem.status if problem is not None else 200,
        web=web,
        partner=partner,
        key_prefix=key_prefix,
        banks=banks,
        grants=grants,
        red=Tlp.RED,
        amber_tlp=(Tlp.AMBER, Tlp.AMBER_STRICT),
        signers=_live_signers(bastion),
        subscriptions=subscriptions,
        feedback=feedback,
        summary=summary,
        problem=problem,
        done=done,
        can_manage=web.user.can("share.manage"),
        credential_rows=CREDENTIAL_ROWS,
    )


@router.get("/sharing/partners/{name}")
def partner_page(
    request: Request, name: str, web: SignedIn, bastion: BastionDep, done: ShortText = None
) -> Response:
    web.user.require("share.read")
    return _partner_page(request, web, bastion, name, done=done)


def _change(
    request: Request, web: WebSession, bastion: Bastion, name: str, form: Form, what: str
) -> Response:
    """One change to a partner, through :class:`Partners` (which audits it)."""
    web.user.require("share.manage")
    try:
        with bastion.db.session() as session:
            partners = bastion.partners
            if what == "edit":
                current = partners.get(session, name)
                key = session.get(ApiKeyRow, current.api_key_id) if current.api_key_id else None
                url, signer = _url(form), _signer(bastion, form)
                api_key = form.get("api_key").strip()[:32]
                amber = checked(form, "amber")
                # Only what changed is passed on, so the audit event says what changed.
                partners.update(
                    session,
                    name,
                    actor=web.user.actor,
                    url=url if url != current.url else None,
                    api_key=api_key if api_key != (key.prefix if key else "") else None,
                    amber=amber if amber != current.amber else None,
                    signer=signer if signer != current.signer else None,
                )
            elif what in ("enable", "disable"):
                partners.update(session, name, actor=web.user.actor, enabled=what == "enable")
            elif what == "credentials":
                # Replaces every credential; an empty form (with the box ticked) clears them.
                credentials = credentials_of(form)
                if not credentials and not checked(form, "clear"):
                    raise InvalidInput(
                        "type the new credentials, or tick the box to remove them all"
                    )
                partners.update(session, name, actor=web.user.actor, credentials=credentials)
            elif what == "grants":
                _grants(bastion, session, name, form, web.user.actor)
            elif what == "delete":
                if not checked(form, "confirm"):
                    raise InvalidInput(f"tick the box to confirm deleting partner {name!r}")
                partners.delete(session, name, actor=web.user.actor)
            else:
                raise InvalidInput(f"unknown partner action {what[:16]!r}")
    except BastionError as exc:
        if exc.code == "partner_not_found":
            raise
        return _partner_page(request, web, bastion, name, problem=exc)
    if what == "delete":
        return see_other("/ui/sharing?done=partner-deleted")
    return see_other(f"/ui/sharing/partners/{name}?done={what}")


def _grants(bastion: Bastion, session: Session, name: str, form: Form, actor: str) -> None:
    """Grant or withdraw each bank as the checkboxes say; only changed grants are written."""
    partner = bastion.partners.get(session, name)
    current = {g.bank: (g.can_read, g.can_write) for g in partner.grants}
    reading, writing = set(form.all("read")), set(form.all("write"))
    banks = bastion.banks.list(session)
    known = {b.name for b in banks}
    unknown = sorted((reading | writing) - known)
    if unknown:
        raise InvalidInput(f"no bank {unknown[0][:64]!r}")
    for bank in banks:
        wanted = (bank.name in reading, bank.name in writing)
        if bank.tlp == Tlp.RED and any(wanted):
            raise InvalidInput(
                f"bank {bank.name!r} is TLP:RED: its contents never leave this instance, "
                "so it cannot be granted"
            )
        if wanted != current.get(bank.name, (False, False)):
            bastion.partners.grant(
                session, name, bank.name, actor=actor, can_read=wanted[0], can_write=wanted[1]
            )


@router.post("/sharing/partners/{name}/{what}")
def change_partner(
    request: Request, name: str, what: str, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    return _change(request, web, bastion, name, form, what)


# --- trusted signers ------------------------------------------------------------------------


def _signers_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    *,
    problem: BastionError | None = None,
    form: Form | None = None,
    done: str | None = None,
) -> Response:
    return render(
        request,
        "sharing_signers.html",
        status=problem.status if problem is not None else 200,
        web=web,
        signers=TrustStore.open(bastion.settings.data_dir).list(),
        problem=problem,
        form=form or Form({}),
        done=done,
        can_manage=web.user.can("share.manage"),
    )


@router.get("/sharing/signers")
def signers_page(
    request: Request, web: SignedIn, bastion: BastionDep, done: ShortText = None
) -> Response:
    web.user.require("share.read")
    return _signers_page(request, web, bastion, done=done)


@router.post("/sharing/signers")
def add_signer(request: Request, web: SignedIn, form: PostedForm, bastion: BastionDep) -> Response:
    web.user.require("share.manage")
    name, key = form.get("name").strip(), form.get("public_key").strip()
    store = TrustStore.open(bastion.settings.data_dir)
    try:
        with bastion.db.session() as session:
            bastion.audit.record(
                session,
                actor=web.user.actor,
                action="trust.add",
                target_type="signer",
                target_id=name[:64],
                details={"fingerprint": fingerprint(parse_public_key(key))},
            )
            session.flush()
            # Trusted last: a refusal (a name or key already known) rolls the event back.
            store.add(name, key)
    except BastionError as exc:
        return _signers_page(request, web, bastion, problem=exc, form=form)
    return see_other("/ui/sharing/signers?done=added")


@router.post("/sharing/signers/{name}/revoke")
def revoke_signer(
    request: Request, name: str, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("share.manage")
    store = TrustStore.open(bastion.settings.data_dir)
    try:
        with bastion.db.session() as session:
            signer = store.get(name)
            if signer.revoked:
                raise InvalidInput(f"the signer {name!r} is already revoked")
            bastion.audit.record(
                session,
                actor=web.user.actor,
                action="trust.revoke",
                target_type="signer",
                target_id=name,
                details={"fingerprint": signer.fingerprint},
            )
            session.flush()
            # Revoked last: if the audit event cannot be written, the key stays as it was.
            store.revoke(name)
    except BastionError as exc:
        return _signers_page(request, web, bastion, problem=exc)
    return see_other("/ui/sharing/signers?done=revoked")
