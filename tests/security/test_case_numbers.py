"""Case numbers are unique per hall by construction: two halls whose codes share their first letters
(`cityhall-north`, `cityhall-south`) take 80 concurrent submissions without a clash, on both databases;
a configuration where two halls would number alike is refused at load, naming the line.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from queue_server.config import ConfigError, parse_config

from ..cases.helpers import jpeg, pdf, submission
from ..conftest import require_backend
from ..harness import fresh_database, runtime, serving

HALLS = ("cityhall-north", "cityhall-south")


def _config(tmp_path: Path, extra: str = "") -> Path:
    text = "[server]\ndemo = true\n\n"
    for code in HALLS:
        text += (
            f'[[halls]]\ncode = "{code}"\nname = "{code}"\n{extra}\n'
            '  [[halls.queues]]\n  code = "A"\n  name = "综合"\n  name_en = "General"\n\n'
            f'[[devices]]\nname = "kiosk-{code}"\nrole = "kiosk"\nhall = "{code}"\n'
            f'token = "kiosk-{code}-token-0123456789"\n\n'
        )
    path = tmp_path / "halls.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_eighty_concurrent_submissions_across_two_similar_halls(tmp_path: Path, db: str) -> None:
    require_backend(db)
    rt = runtime(fresh_database(db, tmp_path, name="casenos"), tmp_path / "var", config=_config(tmp_path))
    files = [
        ("file.application", ("form.pdf", pdf(), "application/pdf")),
        ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
    ]
    with serving(rt) as srv:

        def submit(i: int) -> httpx.Response:
            hall = HALLS[i % 2]
            return httpx.post(
                f"{srv.url}/api/v1/halls/{hall}/cases",
                data={"data": json.dumps(submission())},
                files=files,
                headers={"Authorization": f"Bearer kiosk-{hall}-token-0123456789"},
                timeout=60,
            )

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(submit, range(80)))
    assert [r.status_code for r in answers] == [201] * 80, [r.text for r in answers if r.status_code != 201][:3]
    numbers = [r.json()["number"] for r in answers]
    assert len(set(numbers)) == 80
    for hall in HALLS:
        mine = sorted(r.json()["number"] for r in answers if r.json()["hall"] == hall)
        assert len(mine) == 40
        assert all(re.fullmatch(r"[1-9]\d{2}\d{6}\d{4}", n) for n in mine)  # digits only: keypad-friendly
        assert len({n[:3] for n in mine}) == 1  # the hall's own three digits
        assert [int(n[-4:]) for n in mine] == list(range(1, 41))  # counted per hall, without gaps
    assert numbers[0][:3] != numbers[1][:3]


def test_two_halls_numbering_alike_are_refused_at_load(tmp_path: Path) -> None:
    text = _config(tmp_path, extra='case_prefix = "123"\n').read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        parse_config(text, "halls.toml")
    problem = next(p for p in err.value.problems if "case_prefix" in p.path)
    assert "cityhall-north" in problem.message and "123" in problem.message
    assert problem.line is not None
    # an explicit prefix for one of them mends it
    ok = text.replace('case_prefix = "123"', 'case_prefix = "124"', 1)
    assert [h.case_code for h in parse_config(ok).halls] == ["124", "123"]
