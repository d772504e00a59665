"""Encryption and keyed hashing of personal data at rest (ID numbers, names, phone numbers).

One secret yields two independent keys through HKDF-SHA256: one for AES-256-GCM encryption and one for
HMAC-SHA256 lookup hashes, so a leaked hash key reveals nothing about the encrypted values and vice versa.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["PiiCipher", "PiiDecryptError"]

_SALT: Final = b"one-window-hall"
_INFO_ENC: Final = b"hall/pii/enc/v1"
_INFO_HASH: Final = b"hall/pii/hash/v1"
_KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_PREFIX: Final = "v1."
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class PiiDecryptError(ValueError):
    """The token cannot be decrypted: wrong key or context, tampered, or not a token at all."""


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=_SALT, info=info).derive(secret)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class PiiCipher:
    """AES-256-GCM encryption and HMAC-SHA256 hashing of personal data, keyed from one secret.

    Instances hold only their two derived keys and never change after ``__init__``, so one instance may be
    shared freely between threads.
    """

    __slots__ = ("_enc_key", "_hash_key")

    def __init__(self, secret: str) -> None:
        """Derive the encryption and hashing keys from ``secret``."""
        if not secret:
            raise ValueError("PiiCipher needs a non-empty secret")
        material = secret.encode("utf-8")
        self._enc_key: bytes = _derive(material, _INFO_ENC)
        self._hash_key: bytes = _derive(material, _INFO_HASH)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<keys hidden>)"

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt ``plaintext`` bound to ``context``; returns ``"v1."`` + unpadded URL-safe base64."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._enc_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _PREFIX + _b64encode(nonce + sealed)

    def decrypt(self, token: str, *, context: str = "") -> str:
        """Decrypt a token from ``encrypt`` made with the same secret and context, else PiiDecryptError."""
        if not isinstance(token, str) or not token.startswith(_PREFIX):
            raise PiiDecryptError("not a v1 PII token")
        body = token[len(_PREFIX) :]
        if not _B64URL.fullmatch(body):
            raise PiiDecryptError("malformed PII token")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise PiiDecryptError("malformed PII token") from exc
        if len(raw) < _NONCE_BYTES + _TAG_BYTES or _b64encode(raw) != body:
            raise PiiDecryptError("malformed PII token")
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            plain = AESGCM(self._enc_key).decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag as exc:
            raise PiiDecryptError("PII token failed authentication (wrong key, context or data)") from exc
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError as exc:  # authenticated but not ours: never return garbage
            raise PiiDecryptError("PII token does not hold UTF-8 text") from exc

    def keyed_hash(self, value: str) -> str:
        """Hex HMAC-SHA256 of ``value`` (as given) under the hash key, for lookups without cleartext."""
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()
