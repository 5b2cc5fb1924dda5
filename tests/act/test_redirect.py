"""Counter-narrative redirects: the most specific resource for a language and region wins, bad
resource files are refused naming the file, no file means no redirect (and says so), and a case
is redirected once, delivered as a signed ``redirect`` event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.act.redirect import (
    NO_MATCHING_RESOURCE,
    NO_RESOURCES,
    RedirectResource,
    RedirectResources,
    Redirects,
)
from bastion.errors import CaseNotFound, ConfigurationError
from bastion.runtime import Bastion
from bastion.settings import Settings
from tests.act.helpers import Clock, ledger_for, make_case
from tests.act.test_webhook import receiver

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "redirect-resources.json"


def _resource(
    title: str, language: str | None = None, region: str | None = None
) -> RedirectResource:
    return RedirectResource(
        title=title,
        url=f"https://example.org/{title}",  # type: ignore[arg-type]
        language=language,
        region=region,
    )


def _write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "resources.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_the_most_specific_resource_wins() -> None:
    resources = RedirectResources(
        [
            _resource("en-gb", "en", "GB"),
            _resource("en", "en"),
            _resource("fr-ca", "fr", "CA"),
            _resource("en-again", "en"),
        ],
        default=_resource("default"),
    )
    assert resources.choose("en", "GB").title == "en-gb"  # type: ignore[union-attr]
    assert resources.choose("EN", "gb").title == "en-gb"  # type: ignore[union-attr]
    assert resources.choose("en-GB").title == "en-gb"  # type: ignore[union-attr]
    assert resources.choose("en_GB").title == "en-gb"  # type: ignore[union-attr]
    assert resources.choose("en", "US").title == "en"  # type: ignore[union-attr]
    assert resources.choose("en").title == "en"  # first listed wins  # type: ignore[union-attr]
    # A region's resource is not offered to the language's other regions.
    assert resources.choose("fr", "FR").title == "default"  # type: ignore[union-attr]
    assert resources.choose("fr", "CA").title == "fr-ca"  # type: ignore[union-attr]
    assert resources.choose(None).title == "default"  # type: ignore[union-attr]
    assert RedirectResources([_resource("de", "de")]).choose("es") is None


def test_the_example_file_loads() -> None:
    resources = RedirectResources.load(EXAMPLE)
    assert not resources.empty
    chosen = resources.choose("en", "GB")
    assert chosen is not None and chosen.url.host == "example.org"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ({"resources": [{"language": "en", "title": "x"}]}, "resources.0.url"),
        ({"resources": [{"language": "en", "title": "x", "url": "ftp://example.org"}]}, "url"),
        ({"resources": [{"title": "x", "url": "https://example.org"}]}, "has no language"),
        ({"resources": [], "extra": 1}, "extra"),
        ([1, 2], "not a valid resource file"),
        ({"default": {"title": "", "url": "https://example.org"}}, "default.title"),
    ],
)
def test_a_bad_resource_file_is_refused_with_its_path(
    tmp_path: Path, content: object, message: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigurationError) as caught:
        RedirectResources.load(path)
    assert str(path) in caught.value.detail and message in caught.value.detail


def test_a_missing_file_is_refused_and_no_setting_means_no_resources(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(ConfigurationError, match="does not exist"):
        RedirectResources.from_settings(Settings(redirect_resources=missing))
    assert RedirectResources.from_settings(Settings()).empty


def test_without_resources_a_redirect_says_why(bastion: Bastion) -> None:
    ledger = ledger_for(bastion.audit, None, Clock())
    with bastion.db.session() as session:
        case_id = make_case(session)
        result = Redirects(ledger, RedirectResources()).redirect(
            session, case_id=case_id, actor="reviewer"
        )
        assert not result.enqueued and result.reason == NO_RESOURCES
        only_german = RedirectResources([_resource("de", "de")])
        result = Redirects(ledger, only_german).redirect(session, case_id=case_id, actor="r")
        assert not result.enqueued and result.reason == NO_MATCHING_RESOURCE
        assert ledger.list(session) == []
        with pytest.raises(CaseNotFound):
            Redirects(ledger, only_german).redirect(session, case_id=999, actor="r")


def test_a_case_is_redirected_once_and_delivered(bastion: Bastion) -> None:
    resources = RedirectResources.load(EXAMPLE)
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, Clock())
        redirects = Redirects(ledger, resources)
        with bastion.db.session() as session:
            case_id = make_case(session, language="en")
            first = redirects.redirect(session, case_id=case_id, actor="reviewer", region="gb")
            again = redirects.redirect(session, case_id=case_id, actor="reviewer", region="US")
        assert first.action is not None and again.action is not None
        assert first.action.id == again.action.id
        assert again.resource == first.resource  # as first sent
        assert first.resource is not None and first.resource.region == "GB"
        assert ledger.deliver_due(bastion.db).delivered == [first.action.id]
    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "redirect"
    data = delivery.json()["data"]
    assert isinstance(data, dict)
    assert data["idempotency_key"] == f"redirect:case:{case_id}"
    payload = data["payload"]
    assert payload["case_id"] == case_id and payload["account_ref"] == "acct-42"
    assert payload["language"] == "en" and payload["region"] == "GB"
    assert payload["resource"]["url"] == "https://example.org/en-gb/helpline"
