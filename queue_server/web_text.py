"""The web pages' citizen strings (issue 22): the tracking page, the web board, the evaluation pad and the feedback
page, in the gettext domain `web` — `queue_server/locale/web.pot` and `queue_server/locale/<lang>/LC_MESSAGES/web.po`
for 中文, English, 한국어, 日本語, Русский. Each message's context (msgctxt) is its page (`track`, `board`, `pad`,
`feedback`), its id a key such as `go_window`; the text takes `{placeholders}`.

The pages do not carry texts of their own: they import the catalogue of a language as an ES module that the
server makes from the .po file (`GET /web/i18n/web/<lang>.js`, queue_server/api/routes/web_i18n.py) and look
keys up with `t("key", {…})` / `zh("key", {…})` / `line("key", lang, {…})` / `say("key", {…})` (JavaScript), or
name them in the page's HTML (`data-t="key"`, `data-line="key"`).

`python -m queue_server.web_text extract` runs Babel's JavaScript extractor over the pages (and a small one over
their index.html) and rewrites the template; tests/web/test_web_catalogue.py fails when the template is not what
the sources name, or when a language lacks a text or a placeholder.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from hall_client.catalogue import Domain, Key, read

WEB_DIR = Path(__file__).with_name("web")
LANGS: tuple[str, ...] = ("zh", "en", "ko", "ja", "ru")  # the demo hall's; zh is the reference
WEB = Domain(Path(__file__).with_name("locale"), "web", LANGS)
DOMAINS = {"web": WEB}  # what GET /web/i18n/{domain}/{lang}.js serves
PAGES = ("track", "board", "pad", "feedback")  # each a directory of web/ and a message context
# the functions whose first argument is a message id (the pages' strings.js define them)
JS_KEYWORDS: dict[str, Any] = {name: None for name in ("t", "zh", "line", "say", "both")}
MSGID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
HTML_KEY = re.compile(r"""\bdata-(?:t|line)="([A-Za-z0-9_]+)\"""")


def _extract_page_js(fileobj: Any, keywords: Any, comment_tags: Any, options: Mapping[str, Any]) -> Iterator[Any]:
    """Babel extraction method: Babel's own JavaScript extractor, each message in its page's context."""
    from babel.messages.extract import extract_javascript

    for lineno, _funcname, messages, comments in extract_javascript(fileobj, JS_KEYWORDS, comment_tags, {}):
        first = messages[0] if isinstance(messages, list | tuple) else messages
        if isinstance(first, str) and MSGID.fullmatch(first):  # a key, not a template literal Babel caught
            yield lineno, "pgettext", [options["page"], first], comments


def _extract_page_html(fileobj: Any, keywords: Any, comment_tags: Any, options: Mapping[str, Any]) -> Iterator[Any]:
    """Babel extraction method for a page's index.html: every `data-t="key"` / `data-line="key"`."""
    for n, text in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        for m in HTML_KEY.finditer(text):
            yield n, "pgettext", [options["page"], m.group(1)], []


def extracted() -> list[tuple[Key, str]]:
    """Every message the pages name, (page, id), with where ("queue_server/web/<page>/<file>:<line>")."""
    from babel.messages.extract import extract_from_file

    found = []
    root = WEB_DIR.parent.parent
    for page in PAGES:
        for path in sorted((WEB_DIR / page).iterdir()):
            method = {".js": _extract_page_js, ".html": _extract_page_html}.get(path.suffix)
            if method is None:
                continue
            with contextlib.redirect_stderr(io.StringIO()):  # Babel's note on a call with a variable id
                results = extract_from_file(
                    method, str(path), keywords={"pgettext": ((1, "c"), 2)}, options={"page": page}
                )
            for lineno, msgid, _comments, context in results:
                found.append(((context, str(msgid)), f"{path.relative_to(root)}:{lineno}"))
    return found


def template_problems() -> list[str]:
    """How the template differs from what the pages name (empty when it is up to date)."""
    named = {k for k, _ in extracted()}
    kept = set(read(WEB.template))
    return [f"{c}/{i}: named by the pages, not in web.pot" for c, i in sorted(named - kept, key=str)] + [
        f"{c}/{i}: in web.pot, named by no page" for c, i in sorted(kept - named, key=str)
    ]


@cache
def pages(lang: str) -> Mapping[str, Mapping[str, str]]:
    """The catalogue of `lang` by page and key (a key the language lacks falls back to English, then Chinese; the
    tests keep every language complete)."""
    out: dict[str, dict[str, str]] = {}
    for source in (LANGS[0], "en", lang):
        for (page, key), text in WEB.texts(source).items():
            out.setdefault(page or "", {})[key] = text
    return out


@cache
def body(lang: str, kind: str) -> bytes:
    """The catalogue of `lang` as JSON (`kind` "json") or as an ES module whose default export is that JSON
    ("js": a page imports it)."""
    text = json.dumps(pages(lang), ensure_ascii=False, sort_keys=True, indent=1)
    if kind == "js":
        text = f"// The web pages' strings in {lang}: queue_server/locale/{lang}/LC_MESSAGES/web.po\n" + (
            f"export default {text};"
        )
    return (text + "\n").encode()


def main(argv: list[str]) -> int:
    """`python -m queue_server.web_text extract`: rewrite web.pot from the pages; `check`: list the
    differences and the languages' gaps (exit 1 when any)."""
    if argv[:1] == ["extract"]:
        how = "written by `python -m queue_server.web_text extract` (Babel) from the pages; do not edit"
        WEB.template.write_bytes(WEB.template_from(extracted(), how))
        print(f"wrote {WEB.template}")
        return 0
    if argv[:1] == ["check"]:
        read.cache_clear()
        gaps = template_problems() + [p for lang in LANGS for p in WEB.problems(lang)]
        print("\n".join(gaps))
        return 1 if gaps else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
