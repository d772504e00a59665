"""How hard a password or a key is to guess: zxcvbn for passwords, an entropy estimate for keys (pure)."""

from __future__ import annotations

import math
import string

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

PASSWORD_MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable", ~10^8 guesses or more
SECRET_MIN_BITS = 128  # the server's secret key (signs tokens, derives the encryption keys)
TOKEN_MIN_BITS = 72  # device tokens and the webhook secret
_MAX_CHECKED = 64  # zxcvbn refuses over 72 characters; a longer password is judged by its start
# zxcvbn's time grows faster than the length (10 ms for 32 characters, 64 ms for 64): keys are judged in
# pieces of this size, up to _KEY_CHECKED characters (a pattern across two pieces counts as two).
_KEY_PIECE, _KEY_CHECKED = 32, 128
# Words that mark a value copied from an example rather than generated (five letters or more: a random
# key contains one with a chance of about one in a billion).
_PLACEHOLDER_WORDS = ("secret", "replace", "change", "example", "placeholder", "password", "insert", "default")
_HEX = frozenset(string.hexdigits)


def password_problem(password: str, context: list[str]) -> str | None:
    """Why zxcvbn finds the password guessable (its own warning), or None when it scores at least 3.

    `context` holds words an attacker knows (the username, the display name): using them costs nothing."""
    result = zxcvbn(password[:_MAX_CHECKED], user_inputs=[c for c in context if c])
    if result["score"] >= PASSWORD_MIN_SCORE:
        return None
    warning = result["feedback"].get("warning") or "it matches common patterns"
    return f"is too easy to guess (strength {result['score']} of 4, need {PASSWORD_MIN_SCORE}: {warning.rstrip('.')})"


def _alphabet_bits(value: str) -> float:
    """log2 of the alphabet a generator of this value would draw from (hex, or the classes present)."""
    if set(value) <= _HEX and value == value.lower():
        return 4.0
    size = sum(
        n
        for present, n in (
            (any(c.islower() for c in value), 26),
            (any(c.isupper() for c in value), 26),
            (any(c.isdigit() for c in value), 10),
            (any(not c.isalnum() for c in value), 33),
        )
        if present
    )
    return math.log2(max(size, 2))


def key_bits(value: str) -> float:
    """Estimated bits of entropy of a key: random stretches at their alphabet's rate, words and patterns
    (repeats, sequences, keyboard runs, dates) at what zxcvbn says it costs to guess them."""
    value = value[:_KEY_CHECKED]
    per_char = _alphabet_bits(value)
    bits = 0.0
    for start in range(0, len(value), _KEY_PIECE):
        for match in zxcvbn(value[start : start + _KEY_PIECE])["sequence"]:
            length = len(match["token"])
            if match["pattern"] == "bruteforce":
                bits += length * per_char
            else:
                bits += min(math.log2(max(float(match["guesses"]), 1.0)), length * per_char)
    return bits


def key_problem(value: str, min_bits: float) -> str | None:
    """Why a key or token is guessable (a placeholder, or too little entropy), or None when it is not."""
    lowered = value.lower()
    word = next((w for w in _PLACEHOLDER_WORDS if w in lowered), None)
    if word is not None:
        return f"looks like a placeholder (it contains '{word}'), not a random value"
    bits = key_bits(value)
    if bits < min_bits:
        return f"is too easy to guess (about {bits:.0f} bits of entropy, need {min_bits:.0f})"
    return None


GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
