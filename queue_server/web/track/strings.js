// The tracking page's sentences: Chinese first, English for each ({name} is filled in).
export const T = {
  title: { zh: "排队进度", en: "Your place in the queue" },
  ahead: { zh: "前面还有 {n} 人", en: "{n} people ahead of you" },
  ahead_one: { zh: "前面还有 1 人", en: "1 person ahead of you" },
  wait: { zh: "预计等候约 {m} 分钟", en: "About {m} min" },
  next: { zh: "下一位就是您", en: "You are next" },
  listen: { zh: "请留意叫号，到号后请及时前往窗口", en: "Please watch for your call" },
  called: { zh: "请到 {w} 号窗口", en: "Please go to window {w}" },
  called_now: { zh: "正在呼叫您的号码", en: "Your number is being called" },
  recalled: { zh: "再次呼叫（第 {k} 次），请尽快前往", en: "Called again ({k}) — please go now" },
  serving: { zh: "正在 {w} 号窗口办理", en: "Being served at window {w}" },
  held: { zh: "暂停办理，请在 {w} 号窗口附近等候", en: "On hold — please stay near window {w}" },
  done: { zh: "办理完成", en: "Service completed" },
  rate_ask: { zh: "请对本次服务进行评价", en: "Please rate the service" },
  rated: { zh: "已评价，感谢您的反馈", en: "Rated — thank you for your feedback" },
  no_show: { zh: "已过号", en: "Your number was missed" },
  cancelled: { zh: "已取消", en: "Cancelled" },
  cancelled_note: { zh: "如仍需办理，请重新取号", en: "Take a new number if you still need the service" },
  expired: { zh: "已失效", en: "No longer valid" },
  expired_note: { zh: "当日服务已结束，请另行取号", en: "Today's service has ended" },
  transferred_queue: { zh: "已为您转至「{q}」", en: "Transferred to {qen}" },
  transferred_window: { zh: "已为您转至 {w} 号窗口", en: "Transferred to window {w}" },
  missing: { zh: "没有这张票", en: "No ticket for this link" },
  missing_note: { zh: "请核对二维码，或重新取号", en: "Check the QR code, or take a new number" },
  updated: { zh: "更新于 {t}", en: "Updated {t}" },
  cancel_failed: { zh: "取消失败：", en: "Could not cancel: " },
};

/** The sentence `key` in both languages, filled with `vals`. */
export function say(key, vals = {}) {
  const fill = (tpl) => tpl.replace(/\{(\w+)\}/g, (_, k) => String(vals[k] ?? ""));
  return { zh: fill(T[key].zh), en: fill(T[key].en) };
}
