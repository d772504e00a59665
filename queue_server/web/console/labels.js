// String catalogue of the staff pages: every label as [Chinese, English].

export const LANE = {
  normal: ["普通", "Regular"],
  military: ["军人优先", "Military"],
  special: ["老弱病残优先", "Priority"],
  vip: ["重点项目", "Key project"],
  appointment: ["预约", "Appointment"],
};

// 需要语言服务: the language a citizen needs an interpreter in (the ticket's `interpreter`), for the clerk's badge.
export const INTERPRETER = {
  en: ["需要语言服务（英语）", "Interpreter: English"],
  ko: ["需要语言服务（韩语）", "Interpreter: Korean · 한국어"],
  ja: ["需要语言服务（日语）", "Interpreter: Japanese · 日本語"],
  ru: ["需要语言服务（俄语）", "Interpreter: Russian · Русский"],
};

export const TICKET_STATUS = {
  waiting: ["等候中", "Waiting"],
  called: ["已叫号", "Called"],
  serving: ["办理中", "Serving"],
  held: ["挂起", "On hold"],
  done: ["已办结", "Done"],
  no_show: ["过号", "No-show"],
  cancelled: ["已取消", "Cancelled"],
  expired: ["已过期", "Expired"],
};

export const WINDOW_STATUS = {
  open: ["服务中", "Open"],
  paused: ["暂停服务", "Paused"],
  closed: ["未开放", "Closed"],
};

export const DEVICE_STATUS = {
  ok: ["正常", "OK"],
  paper_low: ["纸将用完", "Paper low"],
  paper_out: ["缺纸", "Paper out"],
  cover_open: ["机盖打开", "Cover open"],
  offline: ["离线", "Offline"],
  error: ["故障", "Error"],
  unplugged: ["设备未连接", "Unplugged"],
  unknown: ["未上报", "No report"],
};

export const DEVICE_ROLE = { kiosk: ["自助终端", "Kiosk"], display: ["显示屏", "Display"] };

/** Every channel a ticket, booking, case, complaint or rating comes through: the one catalogue all staff
 * pages use (the case pages and the back office re-export it). */
export const CHANNEL = {
  kiosk: ["自助终端", "Kiosk"],
  counter: ["窗口", "Counter"],
  mobile: ["手机", "Mobile"],
  web: ["网上", "Web"],
  phone: ["电话", "Phone"],
  remote: ["远程取号", "Remote"],
  pad: ["评价器", "Rating pad"],
  evaluator: ["评价器", "Rating pad"],
};

export const COUNTS = [
  ["called", ["叫号", "Called"]],
  ["completed", ["办结", "Done"]],
  ["no_show", ["过号", "No-show"]],
  ["transferred", ["转出", "Transferred"]],
  ["held", ["挂起", "Held"]],
];

export const PAUSE_REASONS = [
  ["午休", "Lunch break"],
  ["临时离开", "Away briefly"],
  ["系统故障", "System fault"],
  ["业务培训", "Training"],
];

export const ALERT_KIND = { length: ["排队过长", "Long queue"], wait: ["等候过久", "Long wait"] };

export const pair = (table, key) => table[key] || [key, key];

export const MESSAGE_KIND = {
  issued: ["取号通知", "Ticket issued"],
  ahead: ["即将到号", "Almost your turn"],
  called: ["叫号通知", "Called"],
  recalled: ["重呼通知", "Recalled"],
  no_show: ["过号通知", "No-show"],
  appointment_booked: ["预约成功", "Booked"],
  appointment_reminder: ["预约提醒", "Reminder"],
  appointment_cancelled: ["预约取消", "Cancelled"],
};
