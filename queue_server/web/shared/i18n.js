// The pages' strings (issue 22): the gettext domain `web` (queue_server/locale/<lang>/LC_MESSAGES/web.po, one
// context a page), which the server serves per language as an ES module (GET /web/i18n/web/<lang>.js, imported
// with a page for Chinese) and as JSON (GET /web/i18n/web/<lang>.json, fetched for the other languages).
// See queue_server/web_text.py: `python -m queue_server.web_text extract` finds the keys the pages name.

/** `tpl` with every {name} replaced by vals[name] ("" for a missing text or value). */
export const fill = (tpl, vals = {}) => String(tpl ?? "").replace(/\{(\w+)\}/g, (_, k) => String(vals[k] ?? ""));

const loading = new Map();

/** The catalogue of `lang` ({page: {key: text}}), fetched once; rejects when it cannot be had (asked again then). */
export function catalogue(lang) {
  if (!loading.has(lang)) {
    const p = fetch(`/web/i18n/web/${encodeURIComponent(lang)}.json`).then((r) => {
      if (!r.ok) throw new Error(`catalogue ${lang}: HTTP ${r.status}`);
      return r.json();
    });
    p.catch(() => loading.delete(lang));
    loading.set(lang, p);
  }
  return loading.get(lang);
}
