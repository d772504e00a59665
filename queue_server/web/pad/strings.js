// The pad's string catalogue: Chinese first, English for each key.
export const STRINGS = {
  window: { zh: "{n}号窗口", en: "Window {n}" },
  ticket: { zh: "{number}", en: "{number}" },
  countdown: { zh: "{s} 秒后自动关闭", en: "closes in {s} s" },
  already: { zh: "该服务已评价", en: "This service has already been rated" },
  failed: { zh: "提交失败，请重试", en: "Could not submit; please try again" },
  forbidden: { zh: "本评价器无权保存评价，请联系工作人员", en: "This pad may not save ratings; please tell the staff" },
  noToken: {
    zh: "本评价器未配置设备令牌，评价无法保存。请工作人员用带 ?token= 的地址打开",
    en: "This pad has no device token, so ratings cannot be saved. Staff: open it with its ?token= address",
  },
  badToken: {
    zh: "本评价器的设备令牌无效，评价无法保存。请联系管理员",
    en: "This pad's device token was refused, so ratings cannot be saved. Please call the administrator",
  },
};

// Stars for the five levels (the labels come from the server's catalogue).
export const stars = (level) => "★".repeat(level) + "☆".repeat(5 - level);
