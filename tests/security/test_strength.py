"""Passwords, device tokens, the webhook secret and the server key must be hard to guess outside demo mode."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest

from queue_server.config import ConfigError, check_secret, parse_config
from queue_server.strength import SECRET_MIN_BITS, TOKEN_MIN_BITS, key_bits

from ..harness import TEST_CONFIG
from ..test_cli import HALL, env

STRONG_KEY = "k9Vq2-Rm7xT4pZcB8nYw1eKhJ6sUaGf3Lq"
GOOD_TOKEN = "Vh4qZ8rT2mWx6kPb9LnCaQ3s"


def production(text: str) -> str:
    """The test hall's configuration outside demo mode, with passwords and tokens that pass."""
    text = text.replace("demo = true", "demo = false").replace("-pass", "-pass-long-enough")
    return text.replace("-token-0123456789", f"-token-{GOOD_TOKEN}")


PROD = production(TEST_CONFIG.read_text(encoding="utf-8"))


def problems(text: str) -> list[str]:
    """The configuration's errors, one `line: path: message` each (none when it is accepted)."""
    try:
        parse_config(text, "hall.toml")
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def line_of(text: str, needle: str) -> int:
    """The 1-based line holding `needle`."""
    return next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)


def test_production_config_with_strong_values_is_accepted() -> None:
    assert problems(PROD) == []


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "clerk1clerk1clerk1", "qwertyuiop123"])
def test_guessable_password_is_refused_naming_its_line(weak: str) -> None:
    text = PROD.replace('password = "clerk1-pass-long-enough"', f'password = "{weak}"')
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(f"hall.toml:{line_of(text, weak)}: users[1].password: is too easy to guess")
    assert weak not in found[0]


def test_a_strong_password_passes_and_demo_mode_keeps_simple_ones() -> None:
    assert problems(PROD.replace("clerk1-pass-long-enough", "Gl4cier-orbit-tundra-77")) == []
    demo = TEST_CONFIG.read_text(encoding="utf-8")
    assert "demo = true" in demo and "clerk1-pass" in demo
    assert problems(demo.replace('"clerk1-pass"', '"aaaaaaaaaaaa"')) == []


@pytest.mark.parametrize("weak", ["a" * 24, "kiosk-token-0123456789abcdef", "replace-with-a-real-device-token"])
def test_guessable_device_token_is_refused(weak: str) -> None:
    text = PROD.replace(f"kiosk-t1-token-{GOOD_TOKEN}", weak)
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(f"hall.toml:{line_of(text, weak)}: devices[0].token: ")
    assert "token_urlsafe" in found[0] and weak not in found[0]


@pytest.mark.parametrize("weak", ["x", "webhook-secret", "0123456789012345678901234567"])
def test_guessable_webhook_secret_is_refused(weak: str) -> None:
    hook = f'[notify]\nprovider = "webhook"\nurl = "https://sms.example.org/send"\nsecret = "{weak}"\n'
    text = PROD.replace("[[halls]]", hook + "\n[[halls]]", 1)
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(f"hall.toml:{line_of(text, 'secret = ')}: notify.secret: ")
    assert problems(text.replace(f'secret = "{weak}"', f'secret = "{secrets.token_urlsafe(32)}"')) == []


@pytest.mark.parametrize(
    "weak", ["your-secret-key-here-replace-this-now", "a" * 40, "0123456789abcdefghijklmnopqrstuvwxyz", "Abcd1234" * 5]
)
def test_guessable_server_key_is_refused(weak: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_secret(weak, demo=False)
    assert str(info.value).startswith("server.secret_key: the secret key in HALL_SECRET_KEY")
    assert weak not in str(info.value)
    check_secret(weak, demo=True)  # the demo generates its own key; no check


def test_generated_values_pass_with_margin() -> None:
    """What the hints tell operators to run is never refused (40 draws each)."""
    for _ in range(40):
        assert key_bits(secrets.token_urlsafe(48)) >= SECRET_MIN_BITS
        assert key_bits(secrets.token_urlsafe(32)) >= TOKEN_MIN_BITS
        assert key_bits(secrets.token_hex(32)) >= SECRET_MIN_BITS
        check_secret(secrets.token_urlsafe(48), demo=False)


def test_check_config_command_names_the_line(tmp_path: Path) -> None:
    text = PROD.replace('password = "admin-pass-long-enough"', 'password = "password1234"')
    path = tmp_path / "prod.toml"
    path.write_text(text, encoding="utf-8")
    r = subprocess.run(
        [HALL, "check-config", str(path)], env=env(tmp_path, HALL_SECRET_KEY=STRONG_KEY), capture_output=True, text=True
    )
    assert r.returncode == 2
    assert f"{path}:{line_of(text, 'password1234')}: users[0].password: is too easy to guess" in r.stderr
    assert "password1234" not in r.stderr.replace(f"{path}", "")
