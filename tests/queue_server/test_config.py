"""Tests of the hall configuration models and of error messages that name the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from queue_server.config import (
    AppConfig,
    ConfigError,
    ConfigProblem,
    HallConfig,
    check_secret,
    load_config,
    locate_line,
    parse_config,
)

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"

# Line numbers matter: the tests below assert them exactly.
BASE = """\
[server]
demo = false

[[halls]]
code = "h1"
name = "Hall one"

  [[halls.queues]]
  code = "A"
  name = "甲"
  name_en = "Alpha"

  [[halls.queues]]
  code = "B"
  name = "乙"
  name_en = "Beta"

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

  [[halls.windows]]
  number = 2
  queues = ["B"]

[[halls]]
code = "h2"
name = "Hall two"

  [[halls.queues]]
  code = "A"
  name = "甲"
  name_en = "Alpha"

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[users]]
username = "admin"
password = "a-long-password"
role = "admin"

[[users]]
username = "clerk1"
password = "another-long-password"
role = "clerk"
hall = "h1"
windows = [2]

[[devices]]
name = "kiosk-1"
role = "kiosk"
hall = "h2"
token = "Xq3vT9kLm2Pz7RwB5nYc8HdJ-kiosk"
"""


def edit(old: str, new: str, *, count: int = 1) -> str:
    """Return BASE with the `count`-th occurrence of `old` replaced by `new`."""
    parts = BASE.split(old)
    assert len(parts) > count, f"{old!r} occurs fewer than {count} times"
    return old.join(parts[:count]) + new + old.join(parts[count:])


def error_lines(text: str) -> list[str]:
    """Parse `text` expecting a ConfigError; return its lines."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "hall.toml")
    return str(info.value).splitlines()


def test_base_is_valid() -> None:
    config = parse_config(BASE)
    assert [h.code for h in config.halls] == ["h1", "h2"]
    assert config.hall("h1").window(1).queues == ["A", "B"]
    assert config.hall("h2").queue("A").default_service_s == 300
    assert config.users[1].windows == [2]
    assert config.devices[0].token.get_secret_value() == "Xq3vT9kLm2Pz7RwB5nYc8HdJ-kiosk"


def test_lookups_raise_key_error() -> None:
    config = parse_config(BASE)
    with pytest.raises(KeyError):
        config.hall("nope")
    with pytest.raises(KeyError):
        config.hall("h1").queue("Z")
    with pytest.raises(KeyError):
        config.hall("h1").window(9)


def test_demo_config_loads() -> None:
    config = load_config(DEMO)
    assert config.server.demo is True
    assert [h.code for h in config.halls] == ["demo", "huancui"]
    demo = config.hall("demo")
    assert demo.name == "威海市政务服务中心（示范）"
    assert [q.code for q in demo.queues] == list("ABCDEFGHJKLM")
    assert len(demo.windows) == 12
    assert sum(w.strict_order for w in demo.windows) == 1
    served = {code for w in demo.windows for code in w.queues}
    assert served == {q.code for q in demo.queues}, "every queue is served by some window"
    assert demo.queue("M").default_service_s < demo.queue("F").default_service_s
    assert len(config.hall("huancui").queues) == 3
    assert len(config.hall("huancui").windows) == 2
    users = {u.username: u for u in config.users}
    assert set(users) == {
        "admin",
        "clerk1",
        "clerk2",
        "clerk3",
        "clerk4",
        "approver1",
        "auditor1",
        "clerk-hc",
    }
    assert users["admin"].hall is None
    assert users["clerk1"].windows == [1]
    assert users["clerk-hc"].hall == "huancui"
    devices = {d.name: d for d in config.devices}
    assert devices["window-1-display"].window == 1
    assert devices["kiosk-hc"].hall == "huancui"


def test_unknown_queue_in_window_of_second_hall() -> None:
    assert error_lines(edit('queues = ["A"]\n', 'queues = ["Z"]\n')) == [
        "hall.toml:37: halls[1].windows[0].queues: window 1 names unknown queue 'Z' (this hall has A)"
    ]


def test_unknown_queue_in_second_window() -> None:
    assert error_lines(edit('queues = ["B"]', 'queues = ["B", "Q"]')) == [
        "hall.toml:24: halls[0].windows[1].queues: window 2 names unknown queue 'Q' (this hall has A, B)"
    ]


def test_queue_listed_twice_by_window() -> None:
    assert error_lines(edit('queues = ["A", "B"]', 'queues = ["A", "B", "A"]')) == [
        "hall.toml:20: halls[0].windows[0].queues: window 1 lists queue 'A' twice"
    ]


def test_duplicate_queue_code() -> None:
    assert error_lines(edit('code = "B"', 'code = "A"')) == [
        "hall.toml:14: halls[0].queues[1].code: queue code 'A' is used twice in hall 'h1'",
        "hall.toml:20: halls[0].windows[0].queues: window 1 names unknown queue 'B' (this hall has A)",
        "hall.toml:24: halls[0].windows[1].queues: window 2 names unknown queue 'B' (this hall has A)",
    ]


def test_duplicate_window_number() -> None:
    assert error_lines(edit("number = 2", "number = 1")) == [
        "hall.toml:23: halls[0].windows[1].number: window number 1 is used twice in hall 'h1'"
    ]


def test_duplicate_username() -> None:
    assert error_lines(edit('username = "clerk1"', 'username = "admin"')) == [
        "hall.toml:45: users[1].username: username 'admin' is used twice"
    ]


def test_clerk_without_hall() -> None:
    assert error_lines(edit('hall = "h1"\n', "\n")) == [
        "hall.toml:44: users[1].hall: a user with role 'clerk' needs 'hall = \"...\"'"
    ]


def test_user_in_unknown_hall_and_unknown_window() -> None:
    assert error_lines(edit("windows = [2]", "windows = [7]")) == [
        "hall.toml:49: users[1].windows: hall 'h1' has no window 7"
    ]
    assert error_lines(edit('hall = "h1"', 'hall = "h9"')) == [
        "hall.toml:48: users[1].hall: unknown hall 'h9' (halls are h1, h2)"
    ]


def test_device_in_unknown_hall() -> None:
    assert error_lines(edit('hall = "h2"', 'hall = "h3"')) == [
        "hall.toml:54: devices[0].hall: unknown hall 'h3' (halls are h1, h2)"
    ]


def test_device_window_must_exist_and_belong_to_a_display() -> None:
    display = edit('role = "kiosk"', 'role = "display"\nwindow = 5')
    assert error_lines(display) == ["hall.toml:54: devices[0].window: hall 'h2' has no window 5"]
    kiosk = edit('role = "kiosk"', 'role = "kiosk"\nwindow = 1')
    assert error_lines(kiosk) == ["hall.toml:54: devices[0].window: only a display can be bound to a window"]


def test_unknown_key_suggests_the_right_one() -> None:
    assert error_lines(edit("  number = 2\n", "  numbr = 2\n")) == [
        "hall.toml:22: halls[0].windows[1].number: required setting 'number' is missing",
        "hall.toml:23: halls[0].windows[1].numbr: unknown setting 'numbr' (did you mean 'number'?)",
    ]


def test_unknown_top_level_table() -> None:
    assert error_lines(edit("[server]\n", "[sever]\n")) == [
        "hall.toml:1: sever: unknown setting 'sever' (did you mean 'server'?)"
    ]


def test_toml_syntax_error() -> None:
    lines = error_lines(edit('name = "Hall two"', 'name = "Hall two'))
    assert len(lines) == 1
    assert lines[0].startswith("hall.toml:28: TOML syntax error: ")


def test_missing_required_field_points_at_table_header() -> None:
    assert error_lines(edit('  name_en = "Beta"\n', "")) == [
        "hall.toml:13: halls[0].queues[1].name_en: required setting 'name_en' is missing"
    ]


def test_wrong_type_and_pattern() -> None:
    assert error_lines(edit('code = "A"', 'code = "a1"')) == [
        "hall.toml:9: halls[0].queues[0].code: must be 1 or 2 capital letters, like 'A' or 'AB' "
        "(it is printed on the ticket)"
    ]
    assert error_lines(edit("number = 1", 'number = "1"')) == [
        "hall.toml:19: halls[0].windows[0].number: must be a whole number (without quotes)"
    ]


def test_unknown_timezone() -> None:
    lines = error_lines(edit('name = "Hall one"', 'name = "Hall one"\ntimezone = "Asia/Weihai"'))
    assert lines == [
        "hall.toml:7: halls[0].timezone: unknown time zone 'Asia/Weihai' (use a name like 'Asia/Shanghai')"
    ]


def test_password_rules() -> None:
    assert error_lines(edit('password = "a-long-password"', 'password = "short-pw"')) == [
        "hall.toml:41: users[0].password: must be at least 12 characters long"
    ]
    both = edit('password = "a-long-password"', 'password = "a-long-password"\npassword_hash = "$argon2id$x"')
    assert error_lines(both) == [
        "hall.toml:42: users[0].password_hash: give either 'password' or 'password_hash', not both"
    ]
    assert error_lines(edit('password = "a-long-password"', 'password_hash = "md5:abc"')) == [
        "hall.toml:41: users[0].password_hash: must be an argon2 hash starting with '$argon2' "
        "(or give 'password' instead)"
    ]


def test_short_password_and_token_are_fine_in_demo_mode_only() -> None:
    text = edit("demo = false", "demo = true")
    text = text.replace("a-long-password", "short1").replace("Xq3vT9kLm2Pz7RwB5nYc8HdJ-kiosk", "kiosk-token-1234")
    config = parse_config(text)
    assert config.users[0].password is not None
    assert config.users[0].password.get_secret_value() == "short1"
    outside = text.replace("demo = true", "demo = false")
    assert error_lines(outside) == [
        "hall.toml:41: users[0].password: must be at least 12 characters long",
        "hall.toml:55: devices[0].token: must be at least 24 characters long",
    ]
    assert error_lines(text.replace("short1", "short")) == [
        "hall.toml:41: users[0].password: must be at least 6 characters long"
    ]


def test_secrets_never_appear_in_messages() -> None:
    text = edit("Xq3vT9kLm2Pz7RwB5nYc8HdJ-kiosk", "tiny-token")
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value) == "<config>:55: devices[0].token: must be at least 16 characters long"
    assert info.value.__suppress_context__, "the ValidationError (which shows inputs) is not chained"


def test_demo_file_errors_name_demo_lines() -> None:
    text = DEMO.read_text(encoding="utf-8")
    lines = text.splitlines()
    line = lines.index('  queues = ["K", "A", "B"]') + 1
    assert "  number = 4" in lines[line - 6 : line], "the 4th window of the first hall"
    with pytest.raises(ConfigError) as info:
        parse_config(text.replace('queues = ["K", "A", "B"]', 'queues = ["Z", "A", "B"]'), "config/demo.toml")
    assert str(info.value) == (
        f"config/demo.toml:{line}: halls[0].windows[3].queues: window 4 names unknown queue 'Z' "
        "(this hall has A, B, C, D, E, F, G, H, J, K, L, M)"
    )


def test_error_lines_are_sorted_and_missing_file_is_reported(tmp_path: Path) -> None:
    server_last = BASE.removeprefix("[server]\ndemo = false\n\n") + "\n[server]\ndemo = 1\n"
    assert error_lines(server_last.replace('queues = ["B"]', "queues = []")) == [
        "hall.toml:21: halls[0].windows[1].queues: needs at least 1 entry",
        "hall.toml:55: server.demo: must be true or false (without quotes)",
    ]
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml")
    assert str(info.value).startswith(f"{tmp_path / 'absent.toml'}: cannot read the file")


def test_locator_skips_multiline_values() -> None:
    text = 'notes = """\n[[halls]]\nqueues = 1\n"""\nlist = [\n  "a",\n]\n[[halls]]\nqueues = ["A"]\n'
    assert locate_line(text, ("halls", 0, "queues", 0)) == 9
    assert locate_line(text, ("halls", 1)) is None
    assert locate_line(text, ("list", 1)) == 5


def test_config_error_formatting() -> None:
    err = ConfigError([ConfigProblem("a.b", "bad", 3), ConfigProblem("", "worse", None)], "f.toml")
    assert str(err) == "f.toml:3: a.b: bad\nf.toml: worse"
    assert str(ConfigError([ConfigProblem("x", "m", 2)])) == "line 2: x: m"


def test_models_validate_when_built_in_code() -> None:
    with pytest.raises(ValidationError) as info:
        HallConfig.model_validate(
            {
                "code": "h",
                "name": "H",
                "queues": [{"code": "A", "name": "甲", "name_en": "A"}],
                "windows": [{"number": 1, "queues": ["B"]}],
            }
        )
    assert info.value.errors()[0]["loc"] == ("windows", 0, "queues")
    with pytest.raises(ValidationError):
        AppConfig.model_validate({"halls": []})


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "x" * 31,
        "a" * 40,
        "changeme-changeme-changeme-changeme",
        "Secret" + "k" * 30,
        "password" * 5,
    ],
)
def test_weak_secret_rejected_outside_demo(secret: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        check_secret(secret, demo=False)
    text = str(info.value)
    assert text.startswith("server.secret_key: ")
    assert "HALL_SECRET_KEY" in text
    assert "[server] secret_key" in text


def test_good_secret_and_demo_mode_accepted() -> None:
    check_secret("q8Vd2-Lm0xT7pZrB4nYcW1eKhJ6sUaGf", demo=False)
    check_secret(None, demo=True)
    check_secret("short", demo=True)
