// The hall supervisor view (/console/hall): every window, queue loads, devices, alerts, the board
// notice and failed messages, live from the hall event stream.

import { get, hallPath, post } from "./api.js";
import { $, bi, el, everySecond, notify, syncClock, throttle, tick, wallClock } from "./dom.js";
import { MESSAGE_KIND, pair } from "./labels.js";
import { chooseHall, fatal, signIn, signOut, staffStream, watchAuth } from "./login.js";
import { renderAlerts, renderDevices, renderQueues, renderReplica, renderWindows } from "./overview.js";

const DEAD_POLL_MS = 30000;
const REPLICA_POLL_MS = 10000; // the reports' replica's lag moves without events
const EDITORS = new Set(["clerk", "admin"]); // who may change the notice and retry messages (server rules)
const s = { me: null, hall: null, ov: null, raised: [], loads: 0, stream: null };

async function load() {
  const mine = ++s.loads;
  try {
    const ov = await get(`${hallPath(s.hall)}/console/overview`);
    if (mine !== s.loads) return;
    syncClock(ov.now);
    s.ov = ov;
    s.raised = ov.alerts;
    render();
    $("hall").hidden = false;
    document.body.dataset.seq = String(ov.seq);
  } catch (err) {
    if (err.status === 403 || err.status === 404) fatal(err.message);
    else notify(err.message);
  }
}

const reload = throttle(load, 1000); // the overview counts the day's events: at most once a second

function render() {
  const ov = s.ov;
  if (!ov) return;
  $("hall-name").textContent = `${ov.hall.name} ${ov.hall.name_en || ""}`;
  document.title = `大厅监控 · ${ov.hall.name}`;
  $("win-summary").textContent = renderWindows($("windows"), ov);
  $("queue-summary").textContent = renderQueues($("queues"), ov, s.raised);
  $("device-summary").textContent = renderDevices($("devices"), ov, ov.hall.timezone);
  renderAlerts($("alerts"), ov, s.raised);
  renderReplica($("replica"), ov);
  $("notice-current").textContent = ov.notice || "（无 none）";
}

function onEvent(msg) {
  if (msg.type === "queue.alert" && msg.data) {
    const d = msg.data;
    s.raised = s.raised.filter((a) => !(a.queue === d.queue && a.kind === d.kind));
    if (!d.cleared) s.raised.push({ queue: d.queue, kind: d.kind, threshold: d.threshold });
    render();
  }
  if (msg.type === "device.health" && s.ov && msg.data) {
    const dev = s.ov.devices.find((x) => x.name === msg.data.device);
    if (dev) Object.assign(dev, { reported: msg.data.status, detail: msg.data.detail, last_seen: msg.at });
    render();
  }
  reload();
}

async function loadDead() {
  const box = $("dead");
  try {
    const rows = await get(`${hallPath(s.hall)}/notifications?status=dead&limit=50`);
    $("dead-total").textContent = String(rows.length);
    if (rows.length === 0) {
      box.replaceChildren(el("p", "muted", "没有发送失败的短信 · No failed messages"));
      return;
    }
    const canRetry = EDITORS.has(s.me.role);
    const table = el("table", "grid",
      el("thead", null, el("tr", null, ...["", "时间 Time", "票号 Ticket", "手机 Phone", "类型 Kind", "原因 Error"].map((h) => el("th", null, h)))),
      el("tbody", null, ...rows.map((n) => {
        const b = el("button", null, bi(["重发", "Retry"]));
        b.type = "button";
        b.disabled = !canRetry;
        b.onclick = async () => {
          b.disabled = true;
          try {
            await post(`/api/v1/notifications/${n.id}/retry`);
            notify(`已重新排队 · Requeued ${n.ticket}`, "ok");
          } catch (err) {
            notify(err.message);
          }
          loadDead();
        };
        const tr = el("tr", null, el("td", null, b), el("td", null, n.created_at.slice(11, 16)), el("td", "num", n.ticket),
          el("td", null, n.phone), el("td", null, pair(MESSAGE_KIND, n.kind)[0]),
          el("td", "muted", el("span", "clip", n.last_error || "")));
        tr.querySelector(".clip").title = n.last_error || "";
        tr.dataset.notification = String(n.id);
        return tr;
      })));
    box.replaceChildren(table);
  } catch (err) {
    $("dead-total").textContent = "";
    box.replaceChildren(el("p", "muted", err.status === 403 ? "您的角色无权查看 · Not available to your role" : err.message));
  }
}

function bindNotice() {
  const editable = EDITORS.has(s.me.role);
  for (const id of ["notice-text", "notice-save", "notice-clear"]) $(id).disabled = !editable;
  $("notice-hint").textContent = editable ? "显示在大厅屏底部 · Shown at the foot of the boards" : "仅窗口人员或管理员可修改 · Clerks and admins may edit";
  const publish = async (text) => {
    try {
      await post(`${hallPath(s.hall)}/notice`, { text });
      notify("通知已发布 · Notice published", "ok");
    } catch (err) {
      notify(err.message);
    }
  };
  $("notice-form").onsubmit = (e) => {
    e.preventDefault();
    publish($("notice-text").value.trim());
  };
  $("notice-clear").onclick = () => {
    $("notice-text").value = "";
    publish("");
  };
}

async function main() {
  watchAuth();
  $("logout").onclick = signOut;
  s.me = await signIn();
  s.hall = (await chooseHall(s.me)).code;
  $("user").textContent = `${s.me.name} (${s.me.role})`;
  await load();
  if (!s.ov) return;
  $("notice-text").value = s.ov.notice || "";
  bindNotice();
  loadDead();
  setInterval(loadDead, DEAD_POLL_MS);
  setInterval(() => { if (s.ov && s.ov.replica) reload(); }, REPLICA_POLL_MS);
  s.stream = staffStream(s.hall, {
    onSnapshot: () => reload(),
    onEvent,
  });
  s.stream.start();
  everySecond(() => {
    $("clock").textContent = wallClock(s.ov && s.ov.hall.timezone);
    if (s.ov) {
      // thresholds and device silence depend on the clock, not only on events
      renderAlerts($("alerts"), s.ov, s.raised);
      $("queue-summary").textContent = renderQueues($("queues"), s.ov, s.raised);
      $("device-summary").textContent = renderDevices($("devices"), s.ov, s.ov.hall.timezone);
    }
  });
  setInterval(tick, 1000);
}

main();
