// The pad's texts: Chinese first, then the rated citizen's language — the ticket's (한국어, 日本語, Русский when
// the hall offers it), else English. The gettext domain `web`, context `pad`
// (queue_server/locale/<lang>/LC_MESSAGES/web.po): Chinese and English come with the page as ES modules, another
// language is fetched when a ticket in it is asked about (English until it has come, or when it cannot be had).
// index.html keeps its Chinese; its second-line spans name their key (data-t) and are filled by `label`.
import EN from "/web/i18n/web/en.js";
import ZH from "/web/i18n/web/zh.js";
import { catalogue, fill } from "/static/shared/i18n.js";

const PAGE = "pad";
const texts = { zh: ZH[PAGE], en: EN[PAGE] };
let second = "en";

/** Make `lang` the second line's language (fetching its texts once) if `wanted()` still holds once they are
 * here; English when it is none or cannot be had. True when the language was set. */
export async function setSecond(lang, wanted = () => true) {
  if (lang && !texts[lang]) {
    try {
      texts[lang] = (await catalogue(lang))[PAGE];
    } catch {
      lang = "en";
    }
  } else {
    await null; // the same order whether the texts were here or fetched
  }
  if (!wanted()) return false;
  second = lang && texts[lang] ? lang : "en";
  return true;
}

export const secondLang = () => second;

/** The text `key` in Chinese (`zh`) and in the second language (`en`, the second line), filled with `vals`. */
export const t = (key, vals = {}) => ({
  zh: fill(texts.zh[key], vals),
  en: fill(texts[second][key] ?? texts.en[key], vals),
});

/** The text `key` in Chinese, then the second language: "中文 / second line", filled with `vals`. */
export function both(key, vals = {}) {
  const s = t(key, vals);
  return `${s.zh} / ${s.en}`;
}

/** Fill the page's second-line spans (data-t="key") in the second language. */
export function label(root = document) {
  for (const node of root.querySelectorAll("[data-t]")) {
    node.textContent = t(node.dataset.t).en;
    node.lang = second;
  }
}

// The server's levels and reasons (zh/en pairs, GET /api/v1/feedback/catalogue) in the catalogue here, each key
// named in full so that the extractor finds it.
const SERVER = {
  level: { 5: () => t("level_5"), 4: () => t("level_4"), 3: () => t("level_3"), 2: () => t("level_2"), 1: () => t("level_1") },
  reason: {
    fast: () => t("reason_fast"),
    friendly: () => t("reason_friendly"),
    clear: () => t("reason_clear"),
    once: () => t("reason_once"),
    slow: () => t("reason_slow"),
    attitude: () => t("reason_attitude"),
    unclear: () => t("reason_unclear"),
    repeat: () => t("reason_repeat"),
    materials: () => t("reason_materials"),
    system: () => t("reason_system"),
  },
};

/** A level or reason of the server's catalogue ({code, zh, en}): its Chinese, then the second language where
 * the catalogue here has it, else the server's English. */
export function served(kind, item) {
  const mine = second === "en" ? null : SERVER[kind][item.code];
  return { zh: item.zh, en: (mine && mine().en) || item.en };
}

// Stars for the five levels (the labels come from the server's catalogue).
export const stars = (level) => "★".repeat(level) + "☆".repeat(5 - level);
