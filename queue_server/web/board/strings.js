// The board's texts: the first line Chinese, the second English, 한국어, 日本語, Русский in turn through the hall's
// `languages` (board state `hall.languages`). They are the gettext domain `web`, context `board`
// (queue_server/locale/<lang>/LC_MESSAGES/web.po, whose headers say how the terms were checked; the same words as
// the Kivy board's display_board/locale and the kiosk's kiosk/locale: 번호 / 창구, 番号 / 窓口, номер / окно).
// Chinese comes with the page (an ES module import); each second language is fetched and kept in the browser, so
// a board that cannot fetch it after a restart shows the last one it had; a language it never had is skipped.
import ZH from "/web/i18n/web/zh.js";
import { catalogue, fill } from "/static/shared/i18n.js";

const PAGE = "board";
const KEPT = "board-i18n:"; // localStorage: the last catalogue of each language
const texts = { zh: ZH[PAGE] };

function kept(lang) {
  try {
    return JSON.parse(localStorage.getItem(KEPT + lang) || "null");
  } catch {
    return null;
  }
}

/** Fetch the texts of the hall's second languages (each once; a failed one is asked again next time). */
export async function loadLanguages(hall) {
  const langs = ((hall && hall.languages) || ["zh", "en"]).filter((x) => x !== "zh");
  await Promise.all(
    [...new Set(["en", ...langs])].map(async (lang) => {
      try {
        texts[lang] = (await catalogue(lang))[PAGE];
        localStorage.setItem(KEPT + lang, JSON.stringify(texts[lang]));
      } catch {
        texts[lang] = texts[lang] || kept(lang) || undefined;
      }
    }),
  );
}

/** The Chinese (first line) text `key`, filled with `vals`. */
export const zh = (key, vals = {}) => fill(texts.zh[key], vals);

/** The second line `key` in `lang` (English when that language's texts are not here), filled with `vals`. */
export function line(key, lang, vals = {}) {
  return fill((texts[lang] || texts.en || {})[key], vals);
}

/** The languages the second line goes round: the hall's, without Chinese, whose texts are here (English alone
 * by default). */
export function secondLanguages(hall) {
  const langs = ((hall && hall.languages) || ["zh", "en"]).filter((x) => x !== "zh" && texts[x]);
  return langs.length ? langs : ["en"];
}
