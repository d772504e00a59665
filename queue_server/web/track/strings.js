// The tracking page's sentences: Chinese first (always shown), then the citizen's second language — English,
// 한국어, 日本語 or Русский — for each ({name} is filled in). The texts are the gettext domain `web`, context
// `track` (queue_server/locale/<lang>/LC_MESSAGES/web.po, whose headers say how the terms were checked):
// Chinese comes with the page (an ES module import); the second language is fetched when it is chosen, and
// until it has come — or when it cannot be had — the page shows Chinese alone.
import ZH from "/web/i18n/web/zh.js";
import { catalogue, fill } from "/static/shared/i18n.js";

const PAGE = "track";
export const SECOND = ["en", "ko", "ja", "ru"];
// each language's own name, on its button in the switcher (names of languages, the same in every language)
export const NATIVE = { en: "English", ko: "한국어", ja: "日本語", ru: "Русский" };

const texts = { zh: ZH[PAGE] };
let second = "en";

/** The second line's language: one of SECOND (English when not). */
export function setSecond(lang) {
  second = SECOND.includes(lang) ? lang : "en";
  return second;
}

export const secondLang = () => second;

/** Fetch the texts of `lang` (once): true when they are here. */
export async function load(lang) {
  if (texts[lang]) return true;
  try {
    texts[lang] = (await catalogue(lang))[PAGE];
    return true;
  } catch {
    return false;
  }
}

/** The sentence `key` in Chinese (`zh`) and in the second language (`en`, the second line), filled with `vals`. */
export function say(key, vals = {}) {
  return { zh: fill(texts.zh[key], vals), en: fill((texts[second] || {})[key], vals) };
}
