// The pad's texts: Chinese first, then English — the gettext domain `web`, context `pad`
// (queue_server/locale/<lang>/LC_MESSAGES/web.po), imported with the page as ES modules.
import EN from "/web/i18n/web/en.js";
import ZH from "/web/i18n/web/zh.js";
import { fill } from "/static/shared/i18n.js";

const PAGE = "pad";

/** The text `key` in Chinese, then English: "中文 / English", filled with `vals`. */
export const both = (key, vals = {}) => `${fill(ZH[PAGE][key], vals)} / ${fill(EN[PAGE][key], vals)}`;

/** The text `key` in Chinese and in English, filled with `vals`. */
export const t = (key, vals = {}) => ({ zh: fill(ZH[PAGE][key], vals), en: fill(EN[PAGE][key], vals) });

// Stars for the five levels (the labels come from the server's catalogue).
export const stars = (level) => "★".repeat(level) + "☆".repeat(5 - level);
