"""Signed feeds: every instance has an Ed25519 identity; bundles it exports carry its signature.

A signature is *detached*: the bundle's bytes travel unchanged, beside a small JSON envelope::

    {"version": 1, "algorithm": "ed25519", "signer": "sha256:<32 hex>",
     "public_key": "<raw 32 bytes, base64url>", "created": "2026-01-01T00:00:00Z",
     "sha256": "<hex of the bundle's SHA-256>", "signature": "<64 bytes, base64url>"}

What is signed is the header (every field but ``signature``) as canonical JSON, behind a fixed
context string; the header's ``sha256`` binds it to the exact bundle bytes. A verifier recomputes
the digest, checks the signature, and then asks its :class:`TrustStore` whether the key belongs
to a partner it trusts: a valid signature from an unknown or revoked key is still refused.

The private key is a PKCS#8 PEM file (``<data_dir>/identity/ed25519.pem``) written with mode
0600 and no passphrase: the instance must sign unattended, so a passphrase would have to sit in
a setting beside the key and would add nothing. Protect the data folder (file permissions, disk
encryption) as you protect the database. The key is never logged, printed or put in a repr.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bastion.errors import (
    Conflict,
    InvalidInput,
    PublicKeyMalformed,
    SignatureInvalid,
    SignatureMalformed,
    SignerNotFound,
    SignerRevoked,
    SignerUntrusted,
)

log = logging.getLogger(__name__)

ALGORITHM = "ed25519"
ENVELOPE_VERSION = 1
IDENTITY_DIR = "identity"
KEY_FILE = "ed25519.pem"
TRUST_FILE = "trusted.json"
# Signatures are made over this prefix plus the header, so they cannot be replayed as anything else.
_CONTEXT = b"bastion-signed-bundle-v1\n"
_MAX_ENVELOPE_BYTES = 64 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ENVELOPE_FIELDS = frozenset(
    {"version", "algorithm", "signer", "public_key", "created", "sha256", "signature"}
)


# --- encoding -----------------------------------------------------------------------------------


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict base64url, padding optional; raises ``ValueError`` on anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def fingerprint(raw_public_key: bytes) -> str:
    """``sha256:`` and the first 32 hex digits of the SHA-256 of the raw 32-byte public key."""
    return "sha256:" + hashlib.sha256(raw_public_key).hexdigest()[:32]


def parse_public_key(text: str) -> bytes:
    """A partner's public key as given (raw 32 bytes, base64url) -> the raw bytes.

    Raises :class:`PublicKeyMalformed` for anything that is not exactly 32 bytes of base64url.
    """
    if not isinstance(text, str):
        raise PublicKeyMalformed("a public key must be a string of base64url")
    try:
        raw = _b64decode(text.strip())
    except ValueError:
        raise PublicKeyMalformed("the public key is not base64url") from None
    if len(raw) != 32:
        raise PublicKeyMalformed(
            f"an Ed25519 public key has 32 bytes, this one has {len(raw)}", length=len(raw)
        )
    return raw


def _utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over ``path``."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _identity_dir(data_dir: Path) -> Path:
    folder = data_dir / IDENTITY_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


# --- the instance's identity --------------------------------------------------------------------


class InstanceIdentity:
    """This instance's Ed25519 key pair. Only the public half is ever shown."""

    __slots__ = ("_private_key", "fingerprint", "path", "public_key", "public_key_raw")

    def __init__(self, private_key: Ed25519PrivateKey, path: Path) -> None:
        self._private_key = private_key
        self.path = path
        self.public_key_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = _b64encode(self.public_key_raw)
        self.fingerprint = fingerprint(self.public_key_raw)

    def __repr__(self) -> str:
        return f"InstanceIdentity(fingerprint={self.fingerprint!r})"

    @classmethod
    def load_or_create(cls, data_dir: Path) -> InstanceIdentity:
        """The key in ``data_dir/identity/ed25519.pem``, created (mode 0600) on first use."""
        path = _identity_dir(data_dir) / KEY_FILE
        if not path.exists():
            cls._create(path)
        return cls._load(path)

    @staticmethod
    def _create(path: Path) -> None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written to a private temporary file, then linked into place: a reader never sees a
        # half-written key, and if two processes race, the first link wins and both use it.
        fd, tmp_name = tempfile.mkstemp(prefix=".ed25519.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp_name, path)
                log.info("created the instance signing identity %s", fingerprint_of(key))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)

    @classmethod
    def _load(cls, path: Path) -> InstanceIdentity:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s is readable by other users (mode %o): restrict it to 0600", path, mode)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise InvalidInput(f"{path} does not hold an unencrypted PKCS#8 key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput(f"{path} does not hold an Ed25519 key")
        return cls(key, path)

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)


def fingerprint_of(key: Ed25519PrivateKey) -> str:
    return fingerprint(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


# --- trusted partners ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A partner whose public key this instance trusts (or trusted, if ``revoked_at`` is set)."""

    name: str
    public_key: str
    fingerprint: str
    added_at: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class TrustStore:
    """Partners' public keys by name, kept in ``data_dir/identity/trusted.json``.

    ``remove`` forgets a partner (their bundles become ``signer_untrusted``); ``revoke`` keeps
    the key on record as revoked (``signer_revoked``), so it cannot be re-added by mistake
    without removing it first. Every change rewrites the file atomically.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, data_dir: Path) -> TrustStore:
        return cls(_identity_dir(data_dir) / TRUST_FILE)

    def _read(self) -> list[Signer]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            document = json.loads(text)
            signers = [Signer(**item) for item in document["signers"]]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(f"{self.path} is not a valid trust store") from None
        return signers

    def _write(self, signers: list[Signer]) -> None:
        document = {
            "version": 1,
            "signers": [
                {
                    "name": s.name,
                    "public_key": s.public_key,
                    "fingerprint": s.fingerprint,
                    "added_at": s.added_at,
                    "revoked_at": s.revoked_at,
                }
                for s in sorted(signers, key=lambda s: s.name)
            ],
        }
        _atomic_write(self.path, (json.dumps(document, indent=2) + "\n").encode())

    def list(self) -> list[Signer]:
        return sorted(self._read(), key=lambda s: s.name)

    def get(self, name: str) -> Signer:
        for signer in self._read():
            if signer.name == name:
                return signer
        raise SignerNotFound(f"no trusted signer named {name!r}", name=name)

    def find(self, fingerprint_: str) -> Signer | None:
        return next((s for s in self._read() if s.fingerprint == fingerprint_), None)

    def add(self, name: str, public_key: str) -> Signer:
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput(
                "a signer name is 1-64 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        raw = parse_public_key(public_key)
        fp = fingerprint(raw)
        signers = self._read()
        for existing in signers:
            if existing.name == name:
                raise Conflict(f"a signer named {name!r} is already trusted", name=name)
            if existing.fingerprint == fp:
                state = "revoked" if existing.revoked else "trusted"
                raise Conflict(
                    f"that key is already {state} as {existing.name!r}", name=existing.name
                )
        signer = Signer(name=name, public_key=_b64encode(raw), fingerprint=fp, added_at=_utc_now())
        self._write([*signers, signer])
        return signer

    def remove(self, name: str) -> Signer:
        signer = self.get(name)
        self._write([s for s in self._read() if s.name != name])
        return signer

    def revoke(self, name: str) -> Signer:
        signer = self.get(name)
        if signer.revoked:
            return signer
        revoked = replace(signer, revoked_at=_utc_now())
        self._write([revoked if s.name == name else s for s in self._read()])
        return revoked


# --- signing and verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class SignedBundle:
    """A bundle's detached signature envelope."""

    envelope: dict[str, Any]

    def to_json(self) -> bytes:
        return (json.dumps(self.envelope, indent=2, sort_keys=True) + "\n").encode()


def _header(envelope: Mapping[str, Any]) -> bytes:
    return _CONTEXT + _canonical({k: v for k, v in envelope.items() if k != "signature"})


def sign_bundle(
    bundle_bytes: bytes, identity: InstanceIdentity, *, created: str | None = None
) -> SignedBundle:
    """Sign the exact ``bundle_bytes``: the envelope to ship beside them."""
    return sign_digest(hashlib.sha256(bundle_bytes).hexdigest(), identity, created=created)


def sign_digest(
    sha256_hex: str, identity: InstanceIdentity, *, created: str | None = None
) -> SignedBundle:
    """Sign a bundle known by its SHA-256 (a file too large to hold in memory)."""
    envelope: dict[str, Any] = {
        "version": ENVELOPE_VERSION,
        "algorithm": ALGORITHM,
        "signer": identity.fingerprint,
        "public_key": identity.public_key,
        "created": created or _utc_now(),
        "sha256": sha256_hex,
    }
    envelope["signature"] = _b64encode(identity.sign(_header(envelope)))
    return SignedBundle(envelope)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_envelope(envelope: Mapping[str, Any] | bytes | str) -> dict[str, Any]:
    """The envelope as a checked dict; :class:`SignatureMalformed` for anything off-profile."""
    if isinstance(envelope, bytes | str):
        if len(envelope) > _MAX_ENVELOPE_BYTES:
            raise SignatureMalformed("the signature envelope is too large")
        try:
            envelope = json.loads(envelope)
        except (ValueError, UnicodeDecodeError):
            raise SignatureMalformed("the signature envelope is not JSON") from None
    if not isinstance(envelope, Mapping):
        raise SignatureMalformed("the signature envelope is not a JSON object")
    found = dict(envelope)
    if set(found) != _ENVELOPE_FIELDS:
        missing = sorted(_ENVELOPE_FIELDS - set(found))
        extra = sorted(set(found) - _ENVELOPE_FIELDS)
        raise SignatureMalformed(
            "the signature envelope has the wrong fields", missing=missing, unexpected=extra
        )
    if found["version"] != ENVELOPE_VERSION or isinstance(found["version"], bool):
        raise SignatureMalformed(f"unsupported envelope version {found['version']!r}")
    if found["algorithm"] != ALGORITHM:
        raise SignatureMalformed(f"unsupported signature algorithm {found['algorithm']!r}")
    for field in ("signer", "public_key", "created", "sha256", "signature"):
        if not isinstance(found[field], str):
            raise SignatureMalformed(f"the envelope's {field} is not a string")
    if not _FINGERPRINT.match(found["signer"]):
        raise SignatureMalformed("the envelope's signer is not a sha256: fingerprint")
    if not _SHA256.match(found["sha256"]):
        raise SignatureMalformed("the envelope's sha256 is not 64 lower-case hex digits")
    try:
        raw_key = parse_public_key(found["public_key"])
    except PublicKeyMalformed as exc:
        raise SignatureMalformed(f"the envelope's public key: {exc.detail}") from None
    if fingerprint(raw_key) != found["signer"]:
        raise SignatureMalformed("the envelope's signer does not match its public key")
    try:
        signature = _b64decode(found["signature"])
    except ValueError:
        raise SignatureMalformed("the envelope's signature is not base64url") from None
    if len(signature) != 64:
        raise SignatureMalformed("an Ed25519 signature has 64 bytes")
    return found


def verify_bundle(
    bundle_bytes: bytes, envelope: Mapping[str, Any] | bytes | str, trust: TrustStore
) -> Signer:
    """The trusted signer of ``bundle_bytes``, or a refusal.

    Raises :class:`SignatureMalformed` (the envelope does not parse), :class:`SignatureInvalid`
    (the bytes or the envelope were changed, or the signature was forged),
    :class:`SignerRevoked` or :class:`SignerUntrusted` (a genuine signature by a key this
    instance does not, or no longer, trust).
    """
    return verify_digest(hashlib.sha256(bundle_bytes).hexdigest(), envelope, trust)


def verify_digest(
    sha256_hex: str, envelope: Mapping[str, Any] | bytes | str, trust: TrustStore
) -> Signer:
    """:func:`verify_bundle` for a bundle known by its SHA-256 (see :func:`file_sha256`)."""
    found = parse_envelope(envelope)
    if sha256_hex != found["sha256"]:
        raise SignatureInvalid("the bundle does not match its signature (it was modified)")
    public_key = Ed25519PublicKey.from_public_bytes(parse_public_key(found["public_key"]))
    try:
        public_key.verify(_b64decode(found["signature"]), _header(found))
    except InvalidSignature:
        raise SignatureInvalid("the signature does not verify (forged or modified)") from None
    signer = trust.find(found["signer"])
    if signer is None:
        raise SignerUntrusted(
            f"the bundle is signed by {found['signer']}, which is not a trusted signer",
            signer=found["signer"],
        )
    if signer.revoked:
        raise SignerRevoked(
            f"the bundle is signed by {signer.name!r}, whose key was revoked {signer.revoked_at}",
            signer=found["signer"],
            name=signer.name,
        )
    return signer
