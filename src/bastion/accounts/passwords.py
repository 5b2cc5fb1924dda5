"""Password hashing (argon2id) and the password policy for people who sign in.

Parameters follow RFC 9106's second recommended profile (t=3, m=64 MiB, p=4): slow enough to make
offline guessing of a stolen hash expensive, quick enough (tens of milliseconds) for a login.
Hashes carry their parameters, so raising them later only needs :func:`needs_rehash` on login.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bastion.errors import WeakPassword

MIN_LENGTH = 12
# argon2 copes with any length, but a megabyte "password" would still cost a request's worth of
# hashing memory for nothing: no real passphrase is this long.
MAX_LENGTH = 256
# A password of one or two repeated characters ("aaaaaaaaaaaa", "abababababab") is no password.
_MIN_DISTINCT_CHARACTERS = 5

# The most used passwords that are at least MIN_LENGTH long (shorter ones fail on length alone).
# Compared in lower case, so "Password1234" is refused too.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "1qaz2wsx3edc4rfv",
        "abc123456789",
        "abcdefghijkl",
        "administrator",
        "changeme1234",
        "changemenow!",
        "football1234",
        "iloveyou1234",
        "letmein12345",
        "letmeinplease",
        "monkey123456",
        "password1234",
        "password123!",
        "password12345",
        "passw0rd1234",
        "passwordpassword",
        "p@ssw0rd1234",
        "qazwsxedcrfv",
        "qwerty123456",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "sunshine1234",
        "trustno11234",
        "welcome12345",
        "welcome@1234",
        "zaq12wsxcde3",
    }
)

_HASHER = PasswordHasher(
    time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
)


def check_policy(password: str, *, username: str = "") -> None:
    """Raise :class:`WeakPassword` (saying why) unless ``password`` is acceptable."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    lowered = password.lower()
    name = username.strip().lower()
    if name and name in lowered:
        raise WeakPassword("a password must not contain the username")
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("this password is among the most common ones: choose another")
    if len(set(lowered)) < _MIN_DISTINCT_CHARACTERS:
        raise WeakPassword("a password needs more than a few different characters")


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string: parameters, salt and digest) of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash never matches."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the current ones."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("bastion-dummy-password-never-matches")


def burn_verification(password: str) -> None:
    """Spend as long as a real verification, for usernames that do not exist (or may not sign
    in), so the response time does not tell an attacker which usernames are real."""
    verify_password(_dummy_hash(), password)
