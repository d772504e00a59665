// The pad's string catalogue: Chinese first, English for each key.
export const STRINGS = {
  window: { zh: "{n}号窗口", en: "Window {n}" },
  ticket: { zh: "{number}", en: "{number}" },
  countdown: { zh: "{s} 秒后自动关闭", en: "closes in {s} s" },
  already: { zh: "该服务已评价", en: "This service has already been rated" },
  failed: { zh: "提交失败，请重试", en: "Could not submit; please try again" },
};

// Stars for the five levels (the labels come from the server's catalogue).
export const stars = (level) => "★".repeat(level) + "☆".repeat(5 - level);
