"""The moderator's pages over real HTTP: sign-in, CSRF, roles, deciding by form, headers."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import timedelta

from sqlalchemy import func, select, update

from bastion.review.cases import NewCase
from bastion.storage.models import (
    AlertRow,
    AuditEventRow,
    CaseRow,
    ContentRow,
    DecisionRow,
    MatchRow,
    utcnow,
)

from .conftest import PASSWORD, WebSite, csrf_of


def _decisions(site: WebSite, case_id: int) -> int:
    with site.bastion.db.session() as session:
        query = select(func.count(DecisionRow.id)).where(DecisionRow.case_id == case_id)
        return int(session.scalar(query) or 0)


def _version(site: WebSite, case_id: int) -> int:
    with site.bastion.db.session() as session:
        return site.bastion.cases.get(session, case_id).version


CHART_TITLES = (
    "Queue: open cases by age",
    "Open cases by priority band",
    "Matches per bank, last 14 days",
    "Stream alert latency, last 14 days",
    "Decisions by outcome, last 7 days",
    "Decisions by TVEC category, last 30 days",
    "Decisions by language, last 30 days",
)


def _linked_case(
    site: WebSite,
    *,
    group_key: str | None = None,
    account_ref: str | None = None,
    category: str = "tvec3",
    language: str = "en",
) -> int:
    """An open case in a flood (``group_key``) or from an account; its id."""
    with site.bastion.db.session() as session:
        case = site.bastion.cases.open(
            session,
            NewCase(
                kind="scan_match",
                priority=60,
                severity="high",
                title=f"a flooded post {uuid.uuid4().hex[:6]}",
                labels=[category],
                category=category,
                language=language,
                group_key=group_key,
                account_ref=account_ref,
            ),
            actor="test",
        )
    return case.id


def test_signing_in_sets_a_strict_http_only_cookie_and_opens_the_queue(site: WebSite) -> None:
    name = site.user("moderator")
    with site.client() as client:
        page = client.get("/ui/login")
        assert page.status_code == 200 and "Sign in" in page.text
        response = client.post(
            "/ui/login", data={"username": name, "password": PASSWORD, "csrf": csrf_of(page.text)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/queue"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("bastion_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
        assert "Secure" not in cookie  # plain http on loopback; https requests get Secure
        queue = client.get("/ui/queue")
        assert queue.status_code == 200 and "Review queue" in queue.text


def test_the_cookie_is_secure_behind_an_https_proxy(site: WebSite) -> None:
    name = site.user("moderator")
    https = {"x-forwarded-proto": "https"}  # uvicorn trusts it from loopback
    with site.client() as client:
        page = client.get("/ui/login", headers=https)
        assert "Secure" in page.headers["set-cookie"]
        # httpx keeps Secure cookies off plain http, as a browser would: send it by hand.
        login_cookie = page.headers["set-cookie"].split(";")[0]
        response = client.post(
            "/ui/login",
            data={"username": name, "password": PASSWORD, "csrf": csrf_of(page.text)},
            headers={**https, "cookie": login_cookie},
        )
        assert response.status_code == 303
        assert any(
            c.startswith("bastion_session=") and "Secure" in c
            for c in response.headers.get_list("set-cookie")
        )


def test_a_post_that_is_not_a_url_encoded_form_is_refused(site: WebSite) -> None:
    with closing(site.login(site.user("moderator"))) as client:
        response = client.post("/ui/queue/next", files={"csrf": ("x", b"y")})
        assert response.status_code == 415 and "media_unsupported" in response.text


def test_a_failed_sign_in_does_not_say_whether_the_user_exists(site: WebSite) -> None:
    name = site.user("moderator")
    pages = []
    for username in (name, "nobody-at-all"):
        with site.client() as client:
            form = client.get("/ui/login")
            response = client.post(
                "/ui/login",
                data={
                    "username": username,
                    "password": "wrong " + PASSWORD,
                    "csrf": csrf_of(form.text),
                },
            )
            assert response.status_code == 401
            assert "login_failed" in response.text and "bastion_session" not in str(client.cookies)
            pages.append(response.text.replace(username, "USER"))
    assert "wrong username or password" in pages[0]
    assert pages[0].split('name="csrf"')[0] == pages[1].split('name="csrf"')[0]


def test_a_post_without_the_csrf_token_is_refused(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("moderator"))) as client:
        for data in ({}, {"csrf": "0" * 64}):
            response = client.post("/ui/queue/next", data=data)
            assert response.status_code == 403 and "csrf_failed" in response.text
            decided = client.post(
                f"/ui/cases/{case_id}/decide",
                data={**data, "outcome": "confirm", "version": str(_version(site, case_id))},
            )
            assert decided.status_code == 403 and "csrf_failed" in decided.text
        assert _decisions(site, case_id) == 0
    with site.client() as anonymous:
        anonymous.get("/ui/login")
        login = anonymous.post("/ui/login", data={"username": "x", "password": "y"})
        assert login.status_code == 403 and "csrf_failed" in login.text


def test_a_forged_cookie_leads_to_the_login_page(site: WebSite) -> None:
    with site.client() as client:
        client.cookies.set("bastion_session", "forged-token-" + "a" * 30, path="/ui")
        for path in ("/ui/", "/ui/queue", f"/ui/cases/{site.case()}"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/ui/login"
        assert client.get("/ui/queue", follow_redirects=True).url.path == "/ui/login"


def test_the_cookie_is_refused_after_logout(site: WebSite) -> None:
    with closing(site.login(site.user("moderator"))) as client:
        token = client.cookies["bastion_session"]
        page = client.get("/ui/queue")
        out = client.post("/ui/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        client.cookies.set("bastion_session", token, path="/ui")  # replay the old cookie
        again = client.get("/ui/queue")
        assert again.status_code == 303 and again.headers["location"] == "/ui/login"


def test_an_auditor_reads_cases_but_cannot_decide(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("auditor"))) as client:
        page = client.get(f"/ui/cases/{case_id}")
        assert page.status_code == 200
        assert 'id="decision-form"' not in page.text and 'id="no-decision-form"' in page.text
        response = client.post(
            f"/ui/cases/{case_id}/decide",
            data={
                "csrf": csrf_of(page.text),
                "outcome": "confirm",
                "version": str(_version(site, case_id)),
            },
        )
        assert response.status_code == 403 and "forbidden" in response.text
        assert "Traceback" not in response.text
        assert client.get("/ui/audit").status_code == 200
    assert _decisions(site, case_id) == 0


def test_deciding_by_form_decides_once_and_enqueues_the_action(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get(f"/ui/cases/{case_id}")
        assert 'id="decision-form"' in page.text
        form = {
            "csrf": csrf_of(page.text),
            "outcome": "confirm",
            "labels": ["tvec1", "tvec3"],
            "rationale": "Branded perpetrator footage.\r\nSecond line.",
            "version": str(_version(site, case_id)),
        }
        decided = client.post(f"/ui/cases/{case_id}/decide", data=form)
        assert decided.status_code == 303
        assert decided.headers["location"] == f"/ui/cases/{case_id}?decided=true"
        shown = client.get(decided.headers["location"])
        assert "Decision recorded" in shown.text and "Branded perpetrator footage." in shown.text
        # The same form again (a double click, a resent POST): the case is closed now.
        again = client.post(f"/ui/cases/{case_id}/decide", data=form)
        assert again.status_code == 409 and "case_closed" in again.text
    assert _decisions(site, case_id) == 1
    with site.bastion.db.session() as session:
        actions = site.bastion.actions.list(session, case_id=case_id)
        history = site.bastion.decisions.history(session, case_id)
    assert len(actions) == 1 and actions[0].payload["action"] == "remove"
    assert history[0].labels == ["tvec1", "tvec3"]
    assert history[0].rationale == "Branded perpetrator footage.\nSecond line."


def test_a_stale_version_shows_decision_conflict_and_decides_nothing(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get(f"/ui/cases/{case_id}")
        form = {
            "csrf": csrf_of(page.text),
            "outcome": "escalate",
            "rationale": "Names a date and a place.",
            "version": str(_version(site, case_id)),
        }
        first = client.post(f"/ui/cases/{case_id}/decide", data=form)
        assert first.status_code == 303
        # Escalating keeps the case open (at priority 100) and moves its version on.
        stale = client.post(f"/ui/cases/{case_id}/decide", data={**form, "outcome": "confirm"})
        assert stale.status_code == 409 and "decision_conflict" in stale.text
        assert "Names a date and a place." in stale.text  # the reviewer's words are kept
        assert f'name="version" value="{_version(site, case_id)}"' in stale.text
    assert _decisions(site, case_id) == 1


def test_an_oversize_rationale_is_refused_and_nothing_is_decided(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("analyst"))) as client:
        page = client.get(f"/ui/cases/{case_id}")
        response = client.post(
            f"/ui/cases/{case_id}/decide",
            data={
                "csrf": csrf_of(page.text),
                "outcome": "false_positive",
                "rationale": "x" * 10_001,
                "version": str(_version(site, case_id)),
            },
        )
        assert response.status_code == 400 and "invalid_input" in response.text
        huge = client.post(
            f"/ui/cases/{case_id}/decide",
            content=b"csrf=" + csrf_of(page.text).encode() + b"&rationale=" + b"y" * 200_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413 and "upload_too_large" in huge.text
    assert _decisions(site, case_id) == 0


def test_pages_carry_the_security_headers(site: WebSite) -> None:
    case_id = site.case()
    with closing(site.login(site.user("admin"))) as client:
        for path in ("/ui/login", "/ui/", "/ui/queue", f"/ui/cases/{case_id}", "/ui/audit"):
            response = client.get(path)
            assert response.status_code == 200, path
            policy = response.headers["content-security-policy"]
            for directive in (
                "default-src 'self'",
                "img-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                "frame-ancestors 'none'",
            ):
                assert directive in policy
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "<script>" not in response.text and "style=" not in response.text
        missing = client.get("/ui/cases/999999999")
        assert missing.status_code == 404 and "case_not_found" in missing.text
        assert "content-security-policy" in missing.headers
        bad = client.get("/ui/cases/not-a-number")
        assert bad.status_code == 422 and "validation_error" in bad.text
        assert client.get("/ui/static/bastion.css").status_code == 200


def test_evidence_images_need_a_session_and_are_never_cached(site: WebSite) -> None:
    case_id = site.case()
    with site.bastion.db.session() as session:
        image_id = site.bastion.cases.get(session, case_id).evidence_image_ids[0]
    path = f"/ui/cases/{case_id}/images/{image_id}"
    with site.client() as anonymous:
        assert anonymous.get(path).status_code == 303
    with closing(site.login(site.user("moderator"))) as client:
        image = client.get(path)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "private, no-store"
        page = client.get(f"/ui/cases/{case_id}")
        assert f'src="{path}"' in page.text and "Reveal" in page.text


def test_the_queue_filters_and_take_next_assigns_a_case(site: WebSite) -> None:
    case_id = site.case(priority=99)
    name = site.user("moderator", languages=["en"])
    with closing(site.login(name)) as client:
        queue = client.get("/ui/queue", params={"category": "tvec3", "language": "en"})
        assert queue.status_code == 200 and f"/ui/cases/{case_id}" in queue.text
        other = client.get("/ui/queue", params={"category": "tvec8"})
        assert f"/ui/cases/{case_id}" not in other.text
        taken = client.post("/ui/queue/next", data={"csrf": csrf_of(queue.text)})
        assert taken.status_code == 303 and taken.headers["location"].startswith("/ui/cases/")
    with site.bastion.db.session() as session:
        taken_id = int(taken.headers["location"].rsplit("/", 1)[1])
        assert site.bastion.cases.get(session, taken_id).assigned_to == f"user:{name}"


def test_the_dashboard_draws_its_charts_and_the_audit_page_needs_the_permission(
    site: WebSite,
) -> None:
    site.case()
    with closing(site.login(site.user("moderator"))) as moderator:
        dashboard = moderator.get("/ui/")
        assert dashboard.status_code == 200
        assert dashboard.text.count("<svg") == len(CHART_TITLES) and "<title>" in dashboard.text
        for title in CHART_TITLES:
            assert title in dashboard.text
        assert dashboard.text.count('<details class="chart-data">') == len(CHART_TITLES)
        refused = moderator.get("/ui/audit")
        assert refused.status_code == 403 and "forbidden" in refused.text
    with closing(site.login(site.user("auditor"))) as auditor:
        audit = auditor.get("/ui/audit")
        assert audit.status_code == 200 and "Hash chain intact" in audit.text
        assert "user.login" in audit.text


def test_the_dashboard_charts_count_matches_latency_age_and_decisions(site: WebSite) -> None:
    bank = f"chart-bank-{uuid.uuid4().hex[:6]}"
    now = utcnow()
    with site.bastion.db.session() as session:
        content = ContentRow(kind="image", source="upload")
        session.add(content)
        session.flush()
        for _ in range(3):
            session.add(
                MatchRow(
                    content_id=content.id,
                    bank_name=bank,
                    signal_type="pdq",
                    distance=4,
                    threshold=31,
                )
            )
        for latency in (1.0, 2.0, 3.0, 4.0, 10.0):
            session.add(
                AlertRow(
                    kind="stream_match",
                    summary="a stream aired banked footage",
                    details={"webhook_latency_seconds": latency},
                )
            )
    overdue = site.case(title="an old case past its deadline")
    with site.bastion.db.session() as session:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == overdue)
            .values(created_at=now - timedelta(hours=30), due_at=now - timedelta(hours=6))
        )
    decided = _linked_case(site, category="tvec5", language="de")
    with site.bastion.db.session() as session:
        site.bastion.workbench.decide(
            session, decided, outcome="false_positive", actor="test", expected_version=1
        )
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get("/ui/").text
    day = now.strftime("%m-%d")
    # Each bar and point has a title; each chart a data table with the same numbers.
    assert f"<title>{day}, {bank}: 3</title>" in page
    assert f'<th scope="col">{bank}</th>' in page
    assert f"<title>{day}, median: 3 s</title>" in page
    assert f"<title>{day}, 95th percentile: 10 s</title>" in page
    assert "<title>&gt; 24 h, overdue: " in page and "&gt; 24 h, overdue 0" not in page
    assert "<title>&lt; 1 h, within deadline: " in page
    assert "<title>tvec5, false positive: " in page
    assert "<title>de, false positive: " in page
    assert page.count('role="img"') == len(CHART_TITLES)


def test_a_bulk_decision_decides_every_open_case_of_the_flood_exactly_once(
    site: WebSite,
) -> None:
    flood = f"entry:{uuid.uuid4().hex[:8]}"
    cases = [_linked_case(site, group_key=flood) for _ in range(3)]
    alone = site.case()
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get(f"/ui/cases/{cases[0]}")
        assert "Decide all 3 open cases of this flood" in page.text
        assert 'id="related"' in page.text
        for other in cases[1:]:
            assert f'href="/ui/cases/{other}"' in page.text
        assert 'id="group-form"' not in client.get(f"/ui/cases/{alone}").text
        form = {
            "csrf": csrf_of(page.text),
            "outcome": "confirm",
            "labels": ["tvec1"],
            "rationale": "One video posted by a botnet.",
        }
        without_csrf = client.post(f"/ui/cases/{cases[0]}/decide-group", data={**form, "csrf": ""})
        assert without_csrf.status_code == 403 and "csrf_failed" in without_csrf.text
        escalate = client.post(
            f"/ui/cases/{cases[0]}/decide-group", data={**form, "outcome": "escalate"}
        )
        assert escalate.status_code == 400 and "invalid_input" in escalate.text
        assert all(_decisions(site, case_id) == 0 for case_id in cases)
        done = client.post(f"/ui/cases/{cases[0]}/decide-group", data=form)
        assert done.status_code == 303
        assert done.headers["location"] == f"/ui/cases/{cases[0]}?group_decided=3"
        shown = client.get(done.headers["location"]).text
        assert "Decided 3 open cases of this flood." in shown and 'id="group-form"' not in shown
        again = client.post(f"/ui/cases/{cases[0]}/decide-group", data=form)  # resent
        assert again.headers["location"] == f"/ui/cases/{cases[0]}?group_decided=0"
    assert [_decisions(site, case_id) for case_id in cases] == [1, 1, 1]
    assert _decisions(site, alone) == 0
    with site.bastion.db.session() as session:
        for case_id in cases:
            [action] = site.bastion.actions.list(session, case_id=case_id)
            assert action.payload["action"] == "remove"
            assert site.bastion.decisions.history(session, case_id)[0].labels == ["tvec1"]


def test_assign_and_release_need_csrf_and_are_refused_for_an_auditor(site: WebSite) -> None:
    case_id = site.case()
    name = site.user("moderator")
    with closing(site.login(name)) as client:
        page = client.get(f"/ui/cases/{case_id}")
        assert 'id="assign-form"' in page.text and 'id="release-form"' not in page.text
        version = str(_version(site, case_id))
        for csrf in ("", "0" * 64):
            refused = client.post(
                f"/ui/cases/{case_id}/assign", data={"csrf": csrf, "version": version}
            )
            assert refused.status_code == 403 and "csrf_failed" in refused.text
        form = {"csrf": csrf_of(page.text), "version": version}
        taken = client.post(f"/ui/cases/{case_id}/assign", data=form)
        assert taken.status_code == 303
        assert taken.headers["location"] == f"/ui/cases/{case_id}?assigned=me"
        shown = client.get(taken.headers["location"]).text
        assert f'id="assignee">user:{name}<' in shown and 'id="release-form"' in shown
        stale = client.post(f"/ui/cases/{case_id}/release", data=form)  # the old version
        assert stale.status_code == 409 and "decision_conflict" in stale.text
        assert "Nothing was changed" in stale.text
        released = client.post(
            f"/ui/cases/{case_id}/release",
            data={**form, "version": str(_version(site, case_id))},
        )
        assert released.status_code == 303
        assert released.headers["location"].endswith("?assigned=released")
    with site.bastion.db.session() as session:
        assert site.bastion.cases.get(session, case_id).assigned_to is None
        actions = session.scalars(
            select(AuditEventRow.action)
            .where(AuditEventRow.target_type == "case", AuditEventRow.target_id == str(case_id))
            .order_by(AuditEventRow.id)
        ).all()
    assert list(actions)[-2:] == ["case.assign", "case.release"]
    with closing(site.login(site.user("auditor"))) as auditor:
        page = auditor.get(f"/ui/cases/{case_id}")
        assert 'id="assign-form"' not in page.text
        for path in ("assign", "release"):
            refused = auditor.post(
                f"/ui/cases/{case_id}/{path}",
                data={"csrf": csrf_of(page.text), "version": str(_version(site, case_id))},
            )
            assert refused.status_code == 403 and "forbidden" in refused.text
    with site.bastion.db.session() as session:
        assert site.bastion.cases.get(session, case_id).assigned_to is None


def test_the_case_page_shows_deadline_appeal_related_cases_and_actions(site: WebSite) -> None:
    account = f"account-{uuid.uuid4().hex[:6]}"
    first = _linked_case(site, account_ref=account)
    second = _linked_case(site, account_ref=account)
    with site.bastion.db.session() as session:
        site.bastion.workbench.decide(
            session, first, outcome="confirm", actor="user:first-reviewer", expected_version=1
        )
        site.bastion.decisions.appeal(
            session,
            first,
            complaint="This is a news report about the attack.",
            submitted_by="platform-user-9",
            actor="test",
        )
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get(f"/ui/cases/{first}").text
    assert 'id="appeal"' in page and "This is a news report about the attack." in page
    assert "platform-user-9" in page
    assert "<strong>user:first-reviewer</strong>, who may not decide this appeal" in page
    assert f'href="/ui/cases/{second}"' in page and "same account" in page
    assert "<code>case.decided</code> (webhook)" in page and "<td>remove</td>" in page
    assert " left)</span>" in page  # the appeal's deadline, with the time left
