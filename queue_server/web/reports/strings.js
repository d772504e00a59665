// The reports page's catalogue: Chinese first, English for each key.
export const GROUPS = [
  ["hall", "全厅", "Whole hall"],
  ["queue", "业务队列", "Domain (queue)"],
  ["window", "窗口", "Window"],
  ["clerk", "工作人员", "Clerk"],
  ["lane", "通道", "Lane"],
  ["hour", "时段", "Hour"],
  ["day", "日期", "Day"],
];

export const PRESETS = [
  ["today", "今天", "Today"],
  ["yesterday", "昨天", "Yesterday"],
  ["week", "近7天", "Last 7 days"],
  ["last-month", "上月", "Last month"],
  ["month", "近30天", "Last 30 days (incl. today)"],
];

// [field, zh, en, kind]; kind: n (number), s (seconds → minutes), p (rate → percent)
export const COLUMNS = [
  ["key", "分组", "Group", "k"],
  ["tickets", "取号", "Tickets", "n"],
  ["served", "办结", "Served", "n"],
  ["abandoned", "弃号", "Abandoned", "n"],
  ["wait_mean_s", "平均等候", "Mean wait", "s"],
  ["wait_median_s", "等候中位数", "Median wait", "s"],
  ["wait_p90_s", "等候P90", "P90 wait", "s"],
  ["service_mean_s", "平均办理", "Mean service", "s"],
  ["service_p90_s", "办理P90", "P90 service", "s"],
  ["evaluations", "评价", "Ratings", "n"],
  ["good_rate", "好评率", "Good", "p"],
  ["bad_rate", "差评率", "Bad", "p"],
  ["levels", "明细 5→1", "By level 5→1", "l"],
];

export const CARD = {
  tickets: ["取号", "Tickets"],
  served: ["办结", "Served"],
  service_mean_s: ["平均办理", "Mean handling"],
  evaluations: ["评价", "Ratings"],
  wait_mean_s: ["平均等候", "Mean wait"],
  wait_p90_s: ["等候P90", "P90 wait"],
  good_rate: ["好评率", "Good ratings"],
  bad_rate: ["差评率", "Bad ratings"],
  followups_open: ["待跟进差评", "Open follow-ups"],
  followups_overdue: ["已超期", "Overdue"],
  complaints_open: ["待办投诉", "Open complaints"],
  green: ["绿灯", "Green"],
  yellow: ["黄灯", "Yellow"],
  red: ["红灯", "Red"],
};

export const FU = {
  number: ["票号", "Ticket"],
  window: ["窗口", "Window"],
  clerk: ["人员", "Clerk"],
  level: ["评价", "Rating"],
  reasons: ["原因", "Reasons"],
  deadline: ["期限", "Deadline"],
  status: ["状态", "Status"],
  action: ["操作", "Action"],
};

export const NEXT_STEP = { opened: "verify", verified: "rectify", rectified: "reply", replied: "close" };
export const STEP_LABEL = {
  verify: ["核实", "Verify"],
  rectify: ["整改", "Rectify"],
  reply: ["反馈", "Reply"],
  close: ["办结", "Close"],
};

export const TEXT = {
  overdue: ["超期", "overdue"],
  exact: ["精确计算", "exact"],
  rollup: ["按日汇总，百分位按分桶估算（10分钟内±5秒）", "from daily rollups; percentiles from buckets (±5 s under 10 min)"],
  total: ["合计", "Total"],
  none: ["—", "—"],
  min: ["分", "min"],
  note: ["请填写说明", "Please write a note"],
  loading: ["加载中…", "Loading…"],
  waiting: ["排队人数", "Waiting"],
  mean: ["平均等候(分)", "Mean wait (min)"],
  p90: ["P90等候(分)", "P90 wait (min)"],
  util: ["利用率(%)", "Utilisation (%)"],
  sat: ["好评率(%)", "Good ratings (%)"],
  win: ["{n}号窗口", "Window {n}"],
  notCalled: ["未叫号", "Not called yet"],
  levelsHint: ["非常满意/满意/基本满意/不满意/非常不满意", "very satisfied … very dissatisfied"],
  clerkOnly: [
    "这里只显示您本人的办件统计；全大厅的统计报表供审批、监察人员和管理员查看。",
    "Only your own figures show here; the hall's reports are for approvers, auditors and admins.",
  ],
};
