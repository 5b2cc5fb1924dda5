"""Payment, donation and crowdfunding links."""

from __future__ import annotations

import pytest

from bastion.finance.payment_links import find_payment_links, match_payment_url, platforms


@pytest.mark.parametrize(
    ("url", "scheme", "handle"),
    [
        ("https://www.paypal.me/BrotherX/25", "paypal", "brotherx"),
        ("paypal.com/paypalme/BrotherX", "paypal", "brotherx"),
        ("https://www.paypal.com/donate?hosted_button_id=ABCD1234XY", "paypal", "ABCD1234XY"),
        ("https://www.gofundme.com/f/help-the-family?utm_source=x", "gofundme", "help-the-family"),
        (
            "https://www.launchgood.com/campaign/water_well_for_gaza",
            "launchgood",
            "water_well_for_gaza",
        ),
        ("launchgood.com/v4/campaign/orphans-fund", "launchgood", "orphans-fund"),
        ("https://www.patreon.com/SomeCreator", "patreon", "somecreator"),
        ("ko-fi.com/someone", "kofi", "someone"),
        ("https://buymeacoffee.com/someone", "buymeacoffee", "someone"),
        ("https://liberapay.com/someone/donate", "liberapay", "someone"),
        ("https://opencollective.com/some-group", "opencollective", "some-group"),
        ("https://donorbox.org/winter-appeal", "donorbox", "winter-appeal"),
        ("https://www.givesendgo.com/freedom", "givesendgo", "freedom"),
        (
            "https://www.kickstarter.com/projects/someone/a-project",
            "kickstarter",
            "someone/a-project",
        ),
        ("https://www.indiegogo.com/projects/a-project", "indiegogo", "a-project"),
        ("https://www.justgiving.com/page/someone-run", "justgiving", "someone-run"),
        ("https://venmo.com/u/Some-Name", "venmo", "some-name"),
        ("https://cash.app/$SomeTag", "cashapp", "sometag"),
        ("https://boosty.to/someone", "boosty", "someone"),
        ("https://revolut.me/someone", "revolut", "someone"),
        ("https://wise.com/pay/me/someoneh", "wise", "someoneh"),
    ],
)
def test_platform_links(url: str, scheme: str, handle: str) -> None:
    matched = match_payment_url(url)
    assert matched is not None
    assert matched[:2] == (scheme, handle)
    text = f"Support us: {url} !"
    [found] = find_payment_links(text)
    assert (found.scheme, found.value) == (scheme, handle)
    assert text[found.start : found.end] == url


@pytest.mark.parametrize(
    "url",
    [
        "https://www.paypal.com/",
        "https://www.paypal.com/signin",
        "https://www.gofundme.com/",
        "https://www.gofundme.com/c/help-centre",
        "https://www.patreon.com/login",
        "https://ko-fi.com/",
        "https://www.kickstarter.com/",
        "https://example.com/f/paypal.me",
    ],
)
def test_home_and_help_pages_are_not_payment_links(url: str) -> None:
    assert match_payment_url(url) is None
    assert find_payment_links(f"see {url}") == []


def test_cashtag_needs_context() -> None:
    assert find_payment_links("it costs $Money and $5") == []
    [found] = find_payment_links("send on Cash App: $BrotherFund thanks")
    assert (found.scheme, found.value) == ("cashapp", "brotherfund")


def test_data_file_records_are_complete() -> None:
    ids = [platform.id for platform in platforms()]
    assert len(ids) == len(set(ids))
    for platform in platforms():
        assert platform.kind in {"donation", "crowdfunding", "p2p", "membership"}
        assert platform.hosts and platform.patterns
        assert all({"handle", "id"} & set(pattern.groupindex) for pattern in platform.patterns)
