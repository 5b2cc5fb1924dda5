"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from bastion.accounts.passwords import (
    MAX_LENGTH,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from bastion.errors import WeakPassword


def test_hash_is_salted_argon2id_and_verifies() -> None:
    first = hash_password("a long passphrase 42")
    second = hash_password("a long passphrase 42")

    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # salted
    assert verify_password(first, "a long passphrase 42")
    assert not verify_password(first, "a long passphrase 43")
    assert not needs_rehash(first)


def test_malformed_hash_never_matches() -> None:
    assert not verify_password("", "anything at all")
    assert not verify_password("not-a-hash", "anything at all")
    assert needs_rehash("not-a-hash")


def test_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    old = weak.hash("a long passphrase 42")

    assert verify_password(old, "a long passphrase 42")  # still accepted...
    assert needs_rehash(old)  # ...and upgraded on the next login


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pw 1", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most"),
        ("my-name-is-Alice-ok", "username"),
        ("Password1234", "common"),
        ("QWERTY123456", "common"),
        ("abababababab", "different characters"),
    ],
)
def test_policy_refuses(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason) as raised:
        check_policy(password, username="alice")
    assert raised.value.code == "weak_password" and raised.value.status == 400


def test_policy_accepts_a_passphrase() -> None:
    check_policy("correct horse battery", username="alice")
    check_policy("Tr0ub4dor&3xyz", username="")
