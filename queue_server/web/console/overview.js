// Rendering of the supervisor view from the overview read model: windows, queues, devices, alerts.

import { bi, clockTime, duration, el, minutes, since, ticking } from "./dom.js";
import { ALERT_KIND, DEVICE_ROLE, DEVICE_STATUS, TICKET_STATUS, WINDOW_STATUS, pair } from "./labels.js";

const DEFAULT_WAIT_MIN = 30; // colour thresholds when the hall configures no alert for a queue
const DEFAULT_LENGTH = 20;
const WARN_SHARE = 0.7; // amber from this share of the threshold
const SLOW_SERVICE_S = 20 * 60;

/** ok | warn | bad for a queue: by its configured alert thresholds (or defaults) and raised alerts. */
export function queueLevel(q, raised) {
  if (raised.some((a) => a.queue === q.code)) return "bad";
  const waitMin = q.oldest_arrived_at ? since(q.oldest_arrived_at) / 60 : 0;
  const checks = [
    [waitMin, q.alert_wait_min || DEFAULT_WAIT_MIN],
    [q.waiting, q.alert_length || DEFAULT_LENGTH],
  ];
  if (checks.some(([v, lim]) => v >= lim)) return "bad";
  if (checks.some(([v, lim]) => v >= lim * WARN_SHARE)) return "warn";
  return "ok";
}

/** ok | warn | bad for a device; silent longer than the limit counts as offline. */
export function deviceState(d, offlineAfterS) {
  const silent = !d.last_seen || since(d.last_seen) > offlineAfterS;
  const status = silent ? (d.last_seen ? "offline" : "unknown") : d.reported;
  const level = status === "ok" ? "ok" : status === "paper_low" || status === "unknown" ? "warn" : "bad";
  return { status, level };
}

export function renderWindows(box, ov) {
  box.replaceChildren(...ov.windows.map((w) => {
    const c = w.current;
    const cur = el("div", "wc-cur");
    if (c) {
      const from = c.status === "serving" && c.serving_at ? c.serving_at : c.called_at;
      const t = ticking(from);
      if (since(from) > SLOW_SERVICE_S) t.classList.add("slow");
      cur.append(el("span", "t-number", c.number), el("span", `badge status-${c.status}`, pair(TICKET_STATUS, c.status)[0]), t);
    } else {
      cur.append(el("span", "wc-idle", w.status === "open" ? "空闲 · Idle" : "—"));
    }
    const n = w.counts;
    const card = el("article", `win-card win-${w.status}`,
      el("div", "wc-head", el("span", "wc-no", `${w.number}`), el("span", null, w.name || ""),
        el("span", "wc-state", bi(pair(WINDOW_STATUS, w.status)))),
      w.reason ? el("div", "wc-sub wc-reason", `原因 Reason: ${w.reason}`) : null,
      el("div", "wc-clerk", `工作人员 Clerk: ${w.clerk_name || w.clerk || "—"} · ${w.queues.join(" ")}`),
      cur,
      el("div", "wc-sub", `办结 ${n.completed} · 过号 ${n.no_show} · 转出 ${n.transferred} · 挂起 ${w.held}` +
        (n.avg_service_s ? ` · 均 ${duration(n.avg_service_s)}` : "")));
    card.dataset.window = String(w.number);
    card.dataset.status = w.status;
    card.dataset.current = c ? c.number : "";
    return card;
  }));
  const open = ov.windows.filter((w) => w.status === "open").length;
  return `${open}/${ov.windows.length} 开放 open`;
}

export function renderQueues(body, ov, raised) {
  body.replaceChildren(...ov.queues.map((q) => {
    const level = queueLevel(q, raised);
    const tr = el("tr", `level-${level}`,
      el("td", "lvl", el("span", "dot"), el("b", null, q.code), " ", bi([q.name, q.name_en])),
      el("td", "num", String(q.waiting)),
      el("td", "num lvl", q.oldest_arrived_at ? ticking(q.oldest_arrived_at) : "—"),
      el("td", null, q.waiting ? `约 ${minutes(q.estimated_wait_s)} 分` : "—"),
      el("td", "muted", q.windows.join(", ")));
    tr.dataset.queue = q.code;
    tr.dataset.level = level;
    return tr;
  }));
  return `${ov.queues.reduce((n, q) => n + q.waiting, 0)} 人等候 waiting`;
}

function ago(s) {
  if (s < 60) return "刚刚 just now";
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} 分钟前 ${m} min ago` : `${Math.floor(m / 60)} 小时前 ${Math.floor(m / 60)} h ago`;
}

export function renderDevices(body, ov, tz) {
  let bad = 0;
  body.replaceChildren(...ov.devices.map((d) => {
    const { status, level } = deviceState(d, ov.offline_after_s);
    if (level !== "ok") bad += 1;
    const tr = el("tr", `dev-${level}`,
      el("td", null, el("span", "dot"), d.name),
      el("td", null, bi(pair(DEVICE_ROLE, d.role))),
      el("td", "dev-status", bi(pair(DEVICE_STATUS, status))),
      el("td", null, d.detail || ""),
      el("td", null, d.last_seen ? `${clockTime(d.last_seen, tz)} · ${ago(since(d.last_seen))}` : "—"));
    tr.dataset.device = d.name;
    tr.dataset.status = status;
    return tr;
  }));
  return bad ? `${bad} 需处理 need attention` : "全部正常 all OK";
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The reports' replica in the bar: its lag, or that reports read the primary meanwhile (hidden without one). */
export function renderReplica(box, ov) {
  const r = ov.replica;
  box.hidden = !r;
  if (!r) return;
  box.dataset.state = r.state;
  box.dataset.lagBytes = r.lag_bytes === null ? "" : String(r.lag_bytes);
  if (r.state === "unreachable") box.textContent = "报表库不可达 · Report replica down";
  else if (r.lag_s === null) box.textContent = "报表库延迟未知 · Replica lag unknown";
  else box.textContent = `报表库延迟 Replica lag ${r.lag_s.toFixed(1)} s · ${size(r.lag_bytes)}`;
}

/** The alert strip: raised queue alerts and devices that need someone. */
export function renderAlerts(box, ov, raised) {
  const names = Object.fromEntries(ov.queues.map((q) => [q.code, q.name]));
  const items = raised.map((a) => {
    const [zh, en] = pair(ALERT_KIND, a.kind);
    const unit = a.kind === "wait" ? " 分钟 min" : " 人";
    const e = el("span", "alert bad", `⚠ ${a.queue} ${names[a.queue] || ""} ${zh} ${en}` + (a.threshold ? ` ≥ ${a.threshold}${unit}` : ""));
    e.dataset.alert = `${a.queue}:${a.kind}`;
    return e;
  });
  for (const d of ov.devices) {
    const { status, level } = deviceState(d, ov.offline_after_s);
    if (level === "ok" || status === "unknown") continue;
    const [zh, en] = pair(DEVICE_STATUS, status);
    const e = el("span", `alert ${level}`, `${d.name}: ${zh} ${en}`);
    e.dataset.alert = `device:${d.name}`;
    items.push(e);
  }
  if (ov.calendar_notice) {  // a year without the national holiday arrangement: weekday rules there
    const e = el("span", "alert warn", ov.calendar_notice);
    e.dataset.alert = "calendar";
    items.push(e);
  }
  if (ov.replica && ov.replica.state === "unreachable") {  // reports still work, from the primary
    const e = el("span", "alert warn", "报表只读库不可达，报表改读主库 · Report replica unreachable: reports read the primary");
    e.dataset.alert = "replica";
    items.push(e);
  }
  if (items.length === 0) items.push(el("span", "alert none", "✓ 一切正常 · All clear"));
  box.replaceChildren(...items);
}
