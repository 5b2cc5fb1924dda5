"""Counter-narrative redirects: what a user is shown instead of the content that was removed.

Resources come from a JSON file named by ``BASTION_REDIRECT_RESOURCES`` (format in
``docs/actions.md``, an example in ``docs/examples/redirect-resources.json``)::

    {"default": {"title": ..., "url": ...},
     "resources": [{"language": "en", "region": "GB", "title": ..., "url": ...}, ...]}

For a user's language and region the most specific resource wins: one for that language and that
region, else one for the language with no region, else the default. With no file there are no
resources, and a redirect is refused with that reason rather than sent empty.

A redirect is an action of kind ``redirect`` in the ledger, delivered as the webhook event
``redirect`` with the chosen resource; one per case (or per decision, when one is named).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator
from sqlalchemy.orm import Session

from bastion.act.ledger import ActionInfo, ActionLedger
from bastion.errors import CaseNotFound, ConfigurationError
from bastion.settings import Settings
from bastion.storage.models import CaseRow

__all__ = [
    "REDIRECT_EVENT",
    "RedirectResource",
    "RedirectResources",
    "RedirectResult",
    "Redirects",
]

REDIRECT_EVENT: Final = "redirect"
NO_RESOURCES: Final = "no_redirect_resources"  # no file configured, or it lists nothing
NO_MATCHING_RESOURCE: Final = "no_matching_redirect_resource"  # none fits and no default


class RedirectResource(BaseModel):
    """One resource: where to send the user, and how to present it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    url: HttpUrl
    description: str = Field("", max_length=2000)
    language: str | None = Field(None, min_length=2, max_length=8)
    region: str | None = Field(None, min_length=2, max_length=3)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isalpha():
            raise ValueError("language must be a language code such as 'en' or 'ar'")
        return value.lower()

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isalnum():
            raise ValueError("region must be a region code such as 'GB' or '419'")
        return value.upper()


class _ResourceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: RedirectResource | None = None
    resources: list[RedirectResource] = Field(default_factory=list)


def _split_locale(language: str | None, region: str | None) -> tuple[str | None, str | None]:
    """``("en-GB", None)`` and ``("en", "gb")`` both mean English in the United Kingdom."""
    lang = (language or "").strip().replace("_", "-")
    if "-" in lang:
        lang, _, tail = lang.partition("-")
        region = region or tail.split("-")[-1]
    return (lang.lower() or None), ((region or "").strip().upper() or None)


class RedirectResources:
    """The configured resources, indexed for choosing one."""

    def __init__(
        self,
        resources: list[RedirectResource] | None = None,
        default: RedirectResource | None = None,
    ) -> None:
        self._default = default
        self._by_locale: dict[tuple[str, str | None], RedirectResource] = {}
        for resource in resources or []:
            if resource.language is None:
                continue  # validated away by load(); a resource for nobody in particular
            # The first listed wins: the file's order is the operator's preference.
            self._by_locale.setdefault((resource.language, resource.region), resource)

    @classmethod
    def load(cls, path: Path) -> RedirectResources:
        """Read and validate a resource file; every problem names the file."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"BASTION_REDIRECT_RESOURCES: {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"BASTION_REDIRECT_RESOURCES: {path} cannot be read: {exc}"
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"BASTION_REDIRECT_RESOURCES: {path} is not JSON: {exc.msg} at line {exc.lineno}"
            ) from None
        try:
            parsed = _ResourceFile.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
                for error in exc.errors()
            )
            raise ConfigurationError(
                f"BASTION_REDIRECT_RESOURCES: {path} is not a valid resource file: {problems}"
            ) from None
        for index, resource in enumerate(parsed.resources):
            if resource.language is None:
                raise ConfigurationError(
                    f"BASTION_REDIRECT_RESOURCES: {path}: resources.{index} has no language "
                    "(use 'default' for the resource shown when none fits)"
                )
        return cls(parsed.resources, parsed.default)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedirectResources:
        if settings.redirect_resources is None:
            return cls()
        return cls.load(settings.redirect_resources)

    @property
    def empty(self) -> bool:
        return self._default is None and not self._by_locale

    def choose(self, language: str | None, region: str | None = None) -> RedirectResource | None:
        """The best resource: language and region, else language alone, else the default."""
        lang, reg = _split_locale(language, region)
        if lang is not None:
            if reg is not None and (lang, reg) in self._by_locale:
                return self._by_locale[(lang, reg)]
            if (lang, None) in self._by_locale:
                return self._by_locale[(lang, None)]
        return self._default


@dataclass(frozen=True, slots=True)
class RedirectResult:
    """The redirect enqueued (``action``, with the ``resource`` chosen), or why there is none:
    ``reason`` is ``no_redirect_resources`` or ``no_matching_redirect_resource`` then."""

    action: ActionInfo | None
    resource: RedirectResource | None
    reason: str | None = None

    @property
    def enqueued(self) -> bool:
        return self.action is not None


class Redirects:
    """Chooses a resource for a case's user and records the redirect in the ledger."""

    def __init__(self, ledger: ActionLedger, resources: RedirectResources) -> None:
        self._ledger = ledger
        self._resources = resources

    @property
    def resources(self) -> RedirectResources:
        return self._resources

    def redirect(
        self,
        session: Session,
        *,
        case_id: int,
        actor: str,
        language: str | None = None,
        region: str | None = None,
        decision_id: int | None = None,
    ) -> RedirectResult:
        """Enqueue a ``redirect`` for the user behind case ``case_id``.

        ``language`` defaults to the case's detected language. The same case (or, when given,
        the same decision) twice returns the first redirect: a user is redirected once.
        """
        case = session.get(CaseRow, case_id)
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        if self._resources.empty:
            return RedirectResult(None, None, NO_RESOURCES)
        lang, reg = _split_locale(language or case.language, region)
        resource = self._resources.choose(lang, reg)
        if resource is None:
            return RedirectResult(None, None, NO_MATCHING_RESOURCE)
        key = (
            f"redirect:decision:{decision_id}"
            if decision_id is not None
            else f"redirect:case:{case_id}"
        )
        action = self._ledger.enqueue(
            session,
            kind="redirect",
            idempotency_key=key,
            event=REDIRECT_EVENT,
            payload={
                "case_id": case_id,
                "content_id": case.content_id,
                "account_ref": case.account_ref,
                "language": lang,
                "region": reg,
                "resource": resource.model_dump(mode="json"),
            },
            case_id=case_id,
            decision_id=decision_id,
            actor=actor,
        )
        # A repeated call returns the redirect as first sent, even if the file changed since.
        return RedirectResult(action, RedirectResource.model_validate(action.payload["resource"]))
