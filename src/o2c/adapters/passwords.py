"""Password hashing with argon2id (argon2-cffi), and the random secrets of tokens and
sessions, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) defaults


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist: the same time as a real check."""
    return _HASHER.hash("o2c-no-such-user")

TOKEN_PREFIX = "o2c_"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = TOKEN_PREFIX) -> str:
    """A random secret (256 bits) shown once to its owner."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
