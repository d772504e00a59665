// The feedback page's texts: Chinese first, then English — the gettext domain `web`, context `feedback`
// (queue_server/locale/<lang>/LC_MESSAGES/web.po), imported with the page as ES modules. index.html keeps its
// Chinese (what shows before the module runs); its English spans name their key (data-t) and are filled here.
import EN from "/web/i18n/web/en.js";
import ZH from "/web/i18n/web/zh.js";
import { fill } from "/static/shared/i18n.js";

const PAGE = "feedback";

/** The text `key` in Chinese and in English, filled with `vals`. */
export const t = (key, vals = {}) => ({ zh: fill(ZH[PAGE][key], vals), en: fill(EN[PAGE][key], vals) });

/** The text `key` in Chinese, then English: "中文 / English", filled with `vals`. */
export function both(key, vals = {}) {
  const s = t(key, vals);
  return `${s.zh} / ${s.en}`;
}

/** Fill the page's English spans (data-t="key"). */
export function label(root = document) {
  for (const node of root.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t).en;
}
