"""`python -m kiosk --screenshot-tour DIR`: every kiosk screen, `<orientation>-<variant>-<screen>.png`.

Starts a throwaway queue server (SQLite in a temporary directory) with the demo hall's twelve domains
(config/demo.toml) in two halls — one open that takes bookings, one closed today — and runs the real kiosk
against it by touch, on a landscape (1920×1080) and a portrait (1080×1920) screen, in Chinese, English, Korean,
Japanese, Russian and elder mode, writing DIR/<orientation>-<variant>-<screen>.png. Every shot is checked for text
that does not fit (cut, shortened, a word broken, a lone character on its last line: `kiosk.widgets.misfits`);
the problems are written to DIR/misfits.txt (empty when every label fits). Under no display it runs itself
under `xvfb-run`.

The same PNGs every run: the servers run under libfaketime (Debian's package `faketime`, preloaded) from
SHOT_TIME, so every date on screen (the next opening, the days and times to book) is the same; the kiosks take
SHOT_TIME for now (`--fixed-time`: their clock and the days they offer to book; they do not run under libfaketime,
whose monotonic clock stalls Python's timed waits); each kiosk has a server of its own whose random numbers
(ticket tracking tokens, booking codes) come from a seeded generator, so the QR codes are the same too (a throwaway
server's tokens guard nothing). `tour(out, subset=True)` shoots a representative subset for the tests: every
screen once, every orientation, language and elder mode at least once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from .booking import BOOK_DAYS
from .strings import LANGS

TOKEN = "tour-kiosk-token-0123456789"  # noqa: S105 - the throwaway tour server's device token
VARIANTS = ("zh", "en", "ko", "ja", "elder", "ru")  # every language of the kiosk (kiosk.strings.LANGS), elder mode
ORIENTATIONS = ("landscape", "portrait")
SCREENS_OPEN = (  # the open hall's screens, in the order the tour visits them
    "home",
    "domain",
    "domain-2",
    "interpreter",  # 需要语言服务: in a language other than Chinese only (ASKED)
    "confirm",
    "phone",
    "phone-invalid",
    "confirm-phone",
    "ticket",
    "checkin",
    "query",
    "query-proof",
    "pickup",
    "sub-domains",  # self-submission in the kiosk's language: the items' own ko/ja/ru names (issue 22)
    "sub-items",
    "sub-situation",
    "sub-template",
    "sub-card",
)
SCREENS_CLOSED = ("closed", "book-domain", "book-day", "book-slot", "book-card", "book-phone", "book-confirm", "booked")
SCREENS = SCREENS_OPEN + SCREENS_CLOSED
SHORT = (  # take a number and self-submission's browsing: all a SHORT_VARIANTS variant shows in the subset
    "home",
    "domain",
    "interpreter",
    "confirm",
    "ticket",
    "sub-domains",
    "sub-items",
    "sub-template",
)
SUB_DOMAIN, SUB_ITEM, SUB_SITUATION = "社保医保", "SBYB-YD-002", "resident"  # an item with names in ko, ja, ru
SHORT_VARIANTS = ("ko", "ja", "ru")  # its layouts are the other variants': the subset's time goes on its words
SHOT_TIME = datetime(2026, 12, 7, 10, 42, 7, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning, like the boards'
# The subset the tests shoot: (orientation, hall) → the variants it runs. Every screen once; every orientation,
# language and elder mode at least once (elder in landscape, English in portrait).
SUBSET = {
    ("landscape", "open"): ("zh", "ko", "ru"),  # 한국어 (Noto CJK), Русский (long words): only their SHORT screens
    ("landscape", "closed"): ("elder",),
    ("portrait", "open"): ("en", "ja", "ru"),  # 日本語: only its SHORT screens
    ("portrait", "closed"): ("zh", "ru"),  # Русский books too: the longest words on the booking screens
}
# Who books in the closed hall: the server takes one booking per person, service and day, and the day screen offers
# BOOK_DAYS days, so each variant books the first day its person has not booked yet; after BOOK_DAYS variants the
# next person's card (peripherals.idcard.DEMO_CARDS) starts again from the first day.
BOOKERS = ("demo", "permit", "foreign2023")
# The throwaway server, with the tokens and codes it makes (secrets.*: tracking tokens, booking and query codes)
# from a seeded generator: every run the same QR codes (the tour's server guards nothing). os.urandom stays: other
# users of it (uuid4 per message …) are called a varying number of times, and nothing of theirs is on screen.
SEEDED_SERVER = (
    "import base64, random, runpy, secrets, sys; g = random.Random(20); "
    "secrets.token_bytes = lambda n=32: g.randbytes(n); secrets.token_hex = lambda n=32: g.randbytes(n).hex(); "
    "secrets.token_urlsafe = lambda n=32: base64.urlsafe_b64encode(g.randbytes(n)).rstrip(b'=').decode(); "
    "secrets.choice = g.choice; sys.argv[0] = 'queue_server'; "
    "runpy.run_module('queue_server', run_name='__main__', alter_sys=True)"
)
DEMO = Path(__file__).resolve().parents[1] / "config" / "demo.toml"
HALL = """
[[halls]]
code = "{code}"
name = "{name}"
name_en = "{name_en}"
timezone = "{timezone}"
languages = {languages}
public_url = "http://127.0.0.1:8000"
slot_minutes = 30
{hours}
{queues}
  [[halls.windows]]
  number = 1
  queues = [{codes}]
"""
QUEUE = """
  [[halls.queues]]
  code = "{code}"
  name = "{name}"
  name_en = "{name_en}"
  names = {names}
  slot_capacity = {slots}
"""
DEVICE = """
[[devices]]
name = "tour-kiosk-{hall}"
role = "kiosk"
hall = "{hall}"
token = "{token}"
"""
CLOSED_TODAY = 'open = ["mon-fri 09:00-12:00", "mon-fri 13:30-17:00", "sat 09:00-12:00"]\nholidays = ["{today}"]'


def _toml(value: object) -> str:
    """A list of strings or a table of them as an inline TOML value (JSON's string syntax is TOML's basic one)."""
    import json

    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def tour_config(today: str) -> str:
    """The tour's configuration: the demo hall's name and twelve domains, open ("tour") and closed today ("night");
    the QR codes carry the demo's address (public_url), not the throwaway server's port."""
    hall = next(h for h in tomllib.loads(DEMO.read_text(encoding="utf-8"))["halls"] if h["code"] == "demo")
    slots = {"B": 2}  # a second domain to book: each screen shape books its own (one booking per person a day)
    queues = "".join(
        QUEUE.format(
            code=q["code"],
            name=q["name"],
            name_en=q["name_en"],
            names=_toml(q.get("names") or {}),
            slots=slots.get(q["code"], q.get("slot_capacity", 0)),
        )
        for q in hall["queues"]
    )
    codes = ", ".join(f'"{q["code"]}"' for q in hall["queues"])
    out = "[server]\ndemo = true\n"
    for code, hours in (("tour", ""), ("night", CLOSED_TODAY.format(today=today))):
        out += HALL.format(code=code, name=hall["name"], name_en=hall["name_en"], timezone=hall["timezone"],
                           languages=_toml(hall.get("languages") or ["zh", "en"]), hours=hours, queues=queues,
                           codes=codes)  # fmt: skip
    return out + DEVICE.format(hall="tour", token=TOKEN) + DEVICE.format(hall="night", token=f"{TOKEN}-night")


MODES = {lang: (lang, False) for lang in LANGS} | {"elder": ("zh", True)}  # each variant's language, elder mode


def asked(variant: str) -> bool:
    """Whether take-a-number and check-in ask this variant about an interpreter (a language other than Chinese)."""
    return MODES[variant][0] != "zh"


def _switch(now: str, to: str) -> list[str]:
    """The taps from variant `now` to variant `to` (the language button goes round LANGS, then elder mode)."""
    (lang0, elder0), (lang1, elder1) = MODES[now], MODES[to]
    taps = (LANGS.index(lang1) - LANGS.index(lang0)) % len(LANGS)
    return ["lang"] * taps + (["elder"] if elder0 != elder1 else [])


def _scripts(
    booked: str,
    open_variants: tuple[str, ...] = VARIANTS,
    closed_variants: tuple[str, ...] = VARIANTS,
    short: tuple[str, ...] = (),
) -> tuple[str, str]:
    """The touch scripts in the open hall and in the closed one (which books domain `booked`, a day per variant);
    the open hall's `short` variants only take a number (SHORT)."""
    s, b = ["wait:home", "sleep:0.5"], ["wait:closed", "sleep:0.5"]
    now = "zh"
    for variant in open_variants:
        switch, now = _switch(now, variant), variant
        shot = lambda name, v=variant: f"shot:{v}-{name}"  # noqa: E731
        interp = ["wait:interpreter", shot("interpreter"), "interp:yes"] if asked(variant) else []
        answer = ["wait:interpreter", "interp:yes"] if asked(variant) else []  # check-in asks it again (a new visit)
        # elder mode's larger domain tiles put SUB_DOMAIN below the fold (a tap never scrolls): it searches the item
        find = f"search:{SUB_ITEM}" if MODES[variant][1] else f"tile:{SUB_DOMAIN}"
        sub = ["home", "wait:home", "sub:submit_tile", "wait:sub_domains", shot("sub-domains"), find]
        sub += ["wait:sub_items", shot("sub-items"), f"tile:{SUB_ITEM}", "wait:sub_situation"]
        if variant not in short:
            sub += [shot("sub-situation")]
        sub += [f"tile:{SUB_SITUATION}", "wait:sub_template", shot("sub-template")]
        if variant not in short:
            sub += ["sub:start", "wait:sub_card", shot("sub-card")]
        if variant in short:
            s += ["home", "wait:home", *switch, "sleep:0.3", shot("home"), "take", "wait:domain", shot("domain")]
            s += ["domain:A", *interp, "wait:confirm", shot("confirm"), "confirm", "wait:ticket", "sleep:0.3"]
            s += [shot("ticket"), *sub]
            continue
        s += ["home", "wait:home", *switch, "sleep:0.3", shot("home"), "take", "wait:domain", shot("domain")]
        s += ["pagenext", shot("domain-2"), "pageprev", "domain:A", *interp, "wait:confirm", shot("confirm")]
        s += ["phoneadd"]
        s += ["wait:phone", shot("phone"), "phone:1281234", "phoneok", shot("phone-invalid"), "back", "phoneadd"]
        s += ["phone:13812345678", "phoneok", "wait:confirm", shot("confirm-phone"), "confirm", "wait:ticket"]
        s += ["sleep:0.3", shot("ticket"), "home", "checkin", *answer, "wait:checkin", shot("checkin"), "home"]
        s += ["sub:query_tile", "wait:q_entry", "phone:1012612", shot("query"), "field:proof", "key:3FA9"]
        s += [shot("query-proof"), "home", "sub:pickup_tile", "wait:pk_entry", "phone:1234", shot("pickup"), *sub]
    now = "zh"
    for n, variant in enumerate(closed_variants):
        switch, now = _switch(now, variant), variant
        shot = lambda name, v=variant: f"shot:{v}-{name}"  # noqa: E731
        person, day = BOOKERS[n // BOOK_DAYS], n % BOOK_DAYS  # the first day this person has not booked
        card = "card" if person == "demo" else f"card:{person}"
        b += ["home", "wait:closed", *switch, "sleep:0.3", shot("closed"), "book", "wait:book_domain"]
        b += [shot("book-domain"), f"bookdomain:{booked}", "wait:book_day", shot("book-day"), f"day:{day}"]
        b += ["wait:book_slot", shot("book-slot"), "slot:1", "wait:book_card", shot("book-card"), card]
        b += ["wait:phone", "phone:13912345678", shot("book-phone"), "phoneok", "wait:book_confirm"]
        b += [shot("book-confirm"), "bookconfirm", "wait:booked", "sleep:0.3", shot("booked")]
    return ",".join(s), ",".join(b)


LIBFAKETIME = tuple(f"/usr/lib/{arch}/faketime/libfaketime.so.1" for arch in ("x86_64-linux-gnu", "aarch64-linux-gnu"))


def libfaketime() -> str | None:
    """Debian's libfaketime (package faketime), or None."""
    return next((p for p in LIBFAKETIME if Path(p).is_file()), None)


def faketime_env() -> dict[str, str]:
    """The environment that runs the server on the tour's clock (SHOT_TIME, running on from the server's start):
    libfaketime preloaded into the server itself (the `faketime` command would stand between it and the tour's
    terminate(), leaving the server running)."""
    lib = libfaketime()
    if lib is None:
        raise RuntimeError("no libfaketime (apt-get install faketime): the tour runs on a fixed clock")
    start = SHOT_TIME.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")
    return {"LD_PRELOAD": lib, "FAKETIME": f"@{start}", "TZ": "UTC"}  # the start time is read in TZ


def expected(subset: bool = False) -> set[str]:
    """The PNGs a tour writes: `<orientation>-<variant>-<screen>.png`."""
    out = set()
    for o in ORIENTATIONS:
        for hall, screens in (("open", SCREENS_OPEN), ("closed", SCREENS_CLOSED)):
            variants = SUBSET[o, hall] if subset else VARIANTS
            short = SHORT_VARIANTS if subset and hall == "open" else ()
            out |= {
                f"{o}-{v}-{s}.png"
                for v in variants
                for s in (SHORT if v in short else screens)
                if s != "interpreter" or asked(v)
            }
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kiosk(url: str, hall: str, token: str, script: str, out: Path, env: dict[str, str], portrait: bool) -> list[str]:
    """Run the kiosk with `script` to its end (under xvfb-run when there is no display); the fit problems."""
    cmd = [sys.executable, "-m", "kiosk", "--server", url, "--hall", hall, "--token", token]
    cmd += ["--script", script, "--fixed-time", SHOT_TIME.isoformat()]
    cmd += ["--screenshot-dir", str(out), "--printer", "sim://?state=paper_out", "--id-reader", "sim://"]
    cmd += ["--camera", "sim://", "--state-dir", str(out / f"state-{hall}")]  # self-submission's tile and screens
    cmd += ["--portrait"] if portrait else []
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {'1080x1920' if portrait else '1920x1080'}x24", *cmd]
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=1200, check=False)  # noqa: S603 - our own argv
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    if proc.returncode != 0 or "kiosk script:" in log:
        raise RuntimeError(f"kiosk tour failed:\n{log[-3000:]}")
    screen = "portrait" if portrait else "landscape"
    return [f"{screen}-{line.split('kiosk fit: ', 1)[1]}" for line in log.splitlines() if "kiosk fit: " in line]


@contextlib.contextmanager
def throwaway_server(config: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A queue server on a free loopback port with `config`, SQLite in a temporary directory; (URL, kiosk env)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="kiosk-server-") as tmp:
        cfg = Path(tmp) / "hall.toml"
        cfg.write_text(config, encoding="utf-8")
        port = free_port()
        env = os.environ | {
            "HALL_DATABASE_URL": f"sqlite:///{tmp}/hall.db",
            "HALL_SECRET_KEY": "tour-secret-key-0123456789abcdef0123456789",
            "HALL_VAR_DIR": tmp,
            "KIVY_NO_ARGS": "1",
            "KIVY_LOG_MODE": "PYTHON",
            "KIVY_HOME": str(Path(tmp) / "kivy"),
            "PYTHONPATH": str(root),
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-c", SEEDED_SERVER, "serve", "--config", str(cfg), "--port", str(port)],
            env=env | faketime_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_up(url)
            yield url, env
        finally:
            server.terminate()
            server.wait(timeout=10)


def tour(out: Path, *, subset: bool = False) -> list[Path]:
    """Render the tour into `out` (`subset`: the tests' subset); the PNGs written (and out/misfits.txt)."""
    out.mkdir(parents=True, exist_ok=True)
    config = tour_config(SHOT_TIME.date().isoformat())
    runs = []  # the four kiosks (two screens × open and closed hall), each with its own server, run side by side
    for n, orientation in enumerate(ORIENTATIONS):
        opened = SUBSET[orientation, "open"] if subset else VARIANTS
        closed = SUBSET[orientation, "closed"] if subset else VARIANTS
        open_script, closed_script = _scripts("AB"[n], opened, closed, SHORT_VARIANTS if subset else ())
        portrait, shots = orientation == "portrait", out / orientation
        runs.append(("tour", TOKEN, open_script, shots, portrait))
        runs.append(("night", f"{TOKEN}-night", closed_script, shots, portrait))

    def run(i: int) -> list[str]:
        hall, token, script, shots, portrait = runs[i]
        with throwaway_server(config) as (url, env):
            if hall == "tour":
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                    for n, q in enumerate("AABBBCDM"):  # some load on the tiles
                        body = {"queue": q, "lane": "normal", "channel": "kiosk"}
                        http.post("/api/v1/halls/tour/tickets", json=body, headers={"Idempotency-Key": f"load-{n}"})
            time.sleep(1.0 * i)  # xvfb-run -a picks a free display: not four at the same instant
            return _kiosk(url, hall, token, script, shots, env, portrait)

    problems: list[str] = []
    with ThreadPoolExecutor(len(runs)) as pool:
        for found in pool.map(run, range(len(runs))):
            problems += found
    for orientation in ORIENTATIONS:
        shots = out / orientation
        for p in sorted(shots.glob("kiosk-*.png")):  # the script's shot:NAME writes kiosk-NAME.png
            p.replace(out / f"{orientation}-{p.name.removeprefix('kiosk-')}")
        shutil.rmtree(shots, ignore_errors=True)
    (out / "misfits.txt").write_text("".join(f"{p}\n" for p in sorted(problems)), encoding="utf-8")
    return sorted(out.glob("*.png"))


def _wait_up(url: str, timeout: float = 300.0) -> None:  # migrations take a while on a busy machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the tour's queue server did not start")


def main(out: Path, *, subset: bool = False) -> int:
    """Run the tour, print what was written."""
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") is None:
        print("no display and no xvfb-run (apt-get install xvfb)", file=sys.stderr)
        return 2
    if libfaketime() is None:
        print("no faketime (apt-get install faketime): the tour runs on a fixed clock", file=sys.stderr)
        return 2
    for p in tour(out, subset=subset):
        print(p)
    misfits = (out / "misfits.txt").read_text(encoding="utf-8")
    if misfits:
        print(f"text that does not fit its box:\n{misfits}", file=sys.stderr)
    return 0
