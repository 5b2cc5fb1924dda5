"""One error hierarchy for the whole of Bastion.

Every error a user can provoke is a :class:`BastionError` with a stable, machine-readable
``code`` (never renamed once released: integrations switch on it), an HTTP ``status`` and a
human ``detail``. The API renders them as ``{"error": {"code": ..., "detail": ...}}``; the CLI
maps them to exit code 2.
Anything that is *not* a BastionError is a bug and is reported as ``internal_error``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BastionError(Exception):
    """Base of every expected error. Subclasses fix ``code`` and ``status``."""

    code: ClassVar[str] = "bastion_error"
    status: ClassVar[int] = 400

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # Extra, JSON-serialisable facts (line numbers, limits) that clients may show.
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.context:
            body.update(self.context)
        return {"error": body}


# --- input and media --------------------------------------------------------------------------


class InvalidInput(BastionError):
    code = "invalid_input"
    status = 400


class EmptyMedia(BastionError):
    code = "media_empty"
    status = 422


class UnsupportedMedia(BastionError):
    code = "media_unsupported"
    status = 415


class CorruptMedia(BastionError):
    code = "media_corrupt"
    status = 422


class ImageTooLarge(BastionError):
    """An image whose pixel count exceeds the limit: a decompression bomb or absurd dimensions."""

    code = "image_too_large"
    status = 422


class VideoNoStream(BastionError):
    code = "video_no_video_stream"
    status = 422


class VideoInvalidDimensions(BastionError):
    code = "video_invalid_dimensions"
    status = 422


class VideoTooLong(BastionError):
    code = "video_too_long"
    status = 422


class UploadTooLarge(BastionError):
    code = "upload_too_large"
    status = 413


class InvalidSignal(BastionError):
    """A signal value that does not parse for its type (bad hex, wrong length), or unknown type."""

    code = "invalid_signal"
    status = 422


class ImportMalformed(BastionError):
    """A CSV/JSON import with bad rows; ``context['errors']`` lists ``{line, detail}``."""

    code = "import_malformed"
    status = 422


class StixUnsupported(BastionError):
    """A STIX object Bastion cannot take as a bank entry: wrong type, pattern or size."""

    code = "stix_unsupported"
    status = 422


# --- URL fetching -------------------------------------------------------------------------------


class UrlBlocked(BastionError):
    """A URL Bastion refuses to fetch: bad scheme, private or loopback address, credentials."""

    code = "url_blocked"
    status = 422


class FetchFailed(BastionError):
    code = "fetch_failed"
    status = 502


class FetchTimeout(BastionError):
    code = "fetch_timeout"
    status = 504


class FetchTooLarge(BastionError):
    code = "fetch_too_large"
    status = 413


# --- resources ----------------------------------------------------------------------------------


class NotFound(BastionError):
    code = "not_found"
    status = 404


class BankNotFound(NotFound):
    code = "bank_not_found"


class EntryNotFound(NotFound):
    code = "bank_entry_not_found"


class KeyNotFound(NotFound):
    code = "api_key_not_found"


class ContentNotFound(NotFound):
    code = "content_not_found"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class StreamNotFound(NotFound):
    code = "stream_not_found"


class CaseNotFound(NotFound):
    code = "case_not_found"


class IncidentNotFound(NotFound):
    code = "incident_not_found"


class PolicyNotFound(NotFound):
    code = "policy_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class ActionNotFound(NotFound):
    code = "action_not_found"


class AppealNotFound(NotFound):
    code = "appeal_not_found"


class Conflict(BastionError):
    code = "conflict"
    status = 409


class BankExists(Conflict):
    code = "bank_exists"


class IncidentExists(Conflict):
    code = "incident_exists"


class UserExists(Conflict):
    code = "user_exists"


class CaseClosed(Conflict):
    """The case is closed (decided): appeal it to reopen it."""

    code = "case_closed"


class DecisionConflict(Conflict):
    """Someone decided or changed the case since the caller read it (its version moved on)."""

    code = "decision_conflict"


class IncidentClosed(Conflict):
    code = "incident_closed"


class StreamNotWatching(Conflict):
    """The stream is not being watched in this process, or has no footage for that time range."""

    code = "stream_not_watching"


class StreamLimitReached(Conflict):
    code = "stream_limit_reached"


# --- access -------------------------------------------------------------------------------------


class Unauthorized(BastionError):
    code = "unauthorized"
    status = 401


class Forbidden(BastionError):
    code = "forbidden"
    status = 403


class LoginFailed(Unauthorized):
    """Wrong username or password, or an account that is disabled or locked out: one error for
    all, so a login attempt never tells which usernames exist."""

    code = "login_failed"


class SessionExpired(Unauthorized):
    """A session token that is unknown, expired, idle for too long, or signed out."""

    code = "session_expired"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class WeakPassword(InvalidInput):
    """A password the policy refuses (too short, the username, a common password)."""

    code = "weak_password"


class SameReviewer(Forbidden):
    """An appeal must be decided by someone other than the reviewer of the appealed decision."""

    code = "appeal_needs_another_reviewer"


# --- signed feeds (sharing with other organisations) -------------------------------------------


class SignatureMalformed(BastionError):
    """A signature envelope that does not parse: not JSON, wrong fields, bad key or encoding."""

    code = "signature_malformed"
    status = 422


class SignatureInvalid(BastionError):
    """A signature that does not verify: the bundle or its envelope was modified, or forged."""

    code = "signature_invalid"
    status = 422


class PublicKeyMalformed(InvalidInput):
    code = "public_key_malformed"
    status = 422


class SignerUntrusted(Forbidden):
    """A genuine signature by a key that is not in the trust store."""

    code = "signer_untrusted"


class SignatureMissing(Forbidden):
    """A bundle arrived without a signature, and unsigned bundles were not explicitly allowed."""

    code = "signature_missing"


class SignerRevoked(Forbidden):
    code = "signer_revoked"


class SignerNotFound(NotFound):
    code = "signer_not_found"


# --- sharing with partners -------------------------------------------------------------------


class PartnerNotFound(NotFound):
    code = "partner_not_found"


class PartnerExists(Conflict):
    code = "partner_exists"


class SubscriptionNotFound(NotFound):
    code = "subscription_not_found"


class SubscriptionExists(Conflict):
    code = "subscription_exists"


class CredentialsUnreadable(BastionError):
    """Stored partner credentials do not decrypt: the secret key changed or was lost."""

    code = "credentials_unreadable"
    status = 409


class RemoteUnavailable(BastionError):
    """A partner's server could not be reached, timed out or answered with an HTTP error."""

    code = "remote_unavailable"
    status = 502


class RemoteRefused(BastionError):
    """A partner's server refused our credentials (HTTP 401 or 403)."""

    code = "remote_refused"
    status = 502


class RemoteFeedInvalid(BastionError):
    """A partner sent something that is not a valid page of its protocol: nothing of it was
    applied and the checkpoint did not move."""

    code = "remote_feed_invalid"
    status = 502


class FeedTooLarge(BastionError):
    """A page or file from a partner is larger than this instance accepts in one piece."""

    code = "feed_too_large"
    status = 413


# --- terrorist financing ------------------------------------------------------------------------


class SanctionsListInvalid(BastionError):
    """A sanctions list file that cannot be read: malformed, truncated, hostile (entity
    expansion, external entities) or not the format it claims. ``line``/``column`` or ``record``
    say where, when known."""

    code = "sanctions_list_invalid"
    status = 422


class SanctionsListUnsupported(BastionError):
    """A file that is none of the list formats Bastion reads."""

    code = "sanctions_list_unsupported"
    status = 415


class SanctionsListTooLarge(BastionError):
    """A list file or one record of it past the configured size limits."""

    code = "sanctions_list_too_large"
    status = 413


class SanctionsListNotFound(NotFound):
    code = "sanctions_list_not_found"


class SanctionsEntityNotFound(NotFound):
    code = "sanctions_entity_not_found"


# --- operations ---------------------------------------------------------------------------------


class ConfigurationError(BastionError):
    code = "configuration_error"
    status = 500


class DatabaseNotReady(BastionError):
    code = "database_not_ready"
    status = 503


def all_error_classes() -> list[type[BastionError]]:
    """Every concrete error class, for the uniqueness test and the API docs."""
    found: list[type[BastionError]] = []
    pending: list[type[BastionError]] = [BastionError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.code)
