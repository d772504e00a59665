"""Tests for queue_server.crypto.PiiCipher."""

from __future__ import annotations

import base64
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.crypto import PiiCipher, PiiDecryptError

SECRET = "test-secret-not-for-production"


@pytest.fixture(scope="module")
def cipher() -> PiiCipher:
    return PiiCipher(SECRET)


def _flip(token: str, index: int, bit: int) -> str:
    body = token[3:]
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[index % len(raw)] ^= 1 << bit
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_round_trip(cipher: PiiCipher) -> None:
    token = cipher.encrypt("11010519491231002X")
    assert cipher.decrypt(token) == "11010519491231002X"


def test_token_format(cipher: PiiCipher) -> None:
    token = cipher.encrypt("张三")
    assert token.startswith("v1.")
    body = token[3:]
    assert "=" not in body
    assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == 12 + len("张三".encode()) + 16
    assert "张三".encode() not in raw


def test_empty_plaintext(cipher: PiiCipher) -> None:
    assert cipher.decrypt(cipher.encrypt("")) == ""


def test_context_is_bound(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13812345678", context="citizen:42:phone")
    assert cipher.decrypt(token, context="citizen:42:phone") == "13812345678"
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(token, context="citizen:43:phone")
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(token)


def test_wrong_key(cipher: PiiCipher) -> None:
    token = cipher.encrypt("secret")
    with pytest.raises(PiiDecryptError):
        PiiCipher("another-secret").decrypt(token)


def test_same_secret_new_instance_decrypts(cipher: PiiCipher) -> None:
    assert PiiCipher(SECRET).decrypt(cipher.encrypt("abc")) == "abc"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1.",
        "v1",
        "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.AAAA",
        "v1.not base64!",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/",
        "v1.A",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.ééé",
    ],
)
def test_malformed_tokens(cipher: PiiCipher, token: str) -> None:
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(token)


def test_non_string_token(cipher: PiiCipher) -> None:
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(None)  # type: ignore[arg-type]


def test_truncated_token(cipher: PiiCipher) -> None:
    token = cipher.encrypt("hello world")
    for cut in range(len(token)):
        with pytest.raises(PiiDecryptError):
            cipher.decrypt(token[:cut])


def test_decrypt_error_is_value_error() -> None:
    assert issubclass(PiiDecryptError, ValueError)


def test_empty_secret_rejected() -> None:
    with pytest.raises(ValueError):
        PiiCipher("")


def test_repr_hides_keys(cipher: PiiCipher) -> None:
    assert SECRET not in repr(cipher)
    assert "hidden" in repr(cipher)


def test_no_new_attributes(cipher: PiiCipher) -> None:
    with pytest.raises(AttributeError):
        cipher.extra = 1  # type: ignore[attr-defined]


def test_keyed_hash_shape(cipher: PiiCipher) -> None:
    digest = cipher.keyed_hash("11010519491231002X")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == cipher.keyed_hash("11010519491231002X")
    assert digest != cipher.keyed_hash("11010519491231002x")  # callers normalise first


def test_hash_and_encryption_keys_are_independent(cipher: PiiCipher) -> None:
    import hashlib
    import hmac

    # The hash key must not be the encryption key or the raw secret.
    raw_secret_mac = hmac.new(SECRET.encode(), b"x", hashlib.sha256).hexdigest()
    assert cipher.keyed_hash("x") != raw_secret_mac


def test_thread_safety(cipher: PiiCipher) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                text = f"{n}-{i}-张三"
                assert cipher.decrypt(cipher.encrypt(text, context=str(n)), context=str(n)) == text
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- properties ----------------------------------------------------------------------------------


@given(st.text(), st.text(max_size=30))
def test_round_trip_any_text(text: str, context: str) -> None:
    cipher = PiiCipher(SECRET)
    assert cipher.decrypt(cipher.encrypt(text, context=context), context=context) == text


@given(st.text())
def test_two_encryptions_differ(text: str) -> None:
    cipher = PiiCipher(SECRET)
    assert cipher.encrypt(text) != cipher.encrypt(text)


@given(st.text(max_size=50), st.integers(min_value=0), st.integers(0, 7))
def test_flipped_bit_raises(text: str, index: int, bit: int) -> None:
    cipher = PiiCipher(SECRET)
    tampered = _flip(cipher.encrypt(text), index, bit)
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(tampered)


@given(st.text(max_size=40), st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_keyed_hash_deterministic_per_secret(value: str, secret_a: str, secret_b: str) -> None:
    a1, a2 = PiiCipher(secret_a), PiiCipher(secret_a)
    assert a1.keyed_hash(value) == a2.keyed_hash(value)
    if secret_a != secret_b:
        assert a1.keyed_hash(value) != PiiCipher(secret_b).keyed_hash(value)
