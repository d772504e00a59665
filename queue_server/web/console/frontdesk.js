// 总服务台 (/console/desk): walk-in tickets for any domain and lane, hotline bookings, appointment look-up and
// check-in, no-show rejoin and home-visit requests. Every action is an API call a clerk may make; the lists
// follow the hall's event stream. Personal data is shown masked only.

import { get, hallPath, post } from "./api.js";
import { $, bi, clockTime, el, everySecond, minutes, notify, throttle, tick, wallClock } from "./dom.js";
import { CHANNEL, INTERPRETER, LANE, pair } from "./labels.js";
import { chooseHall, fatal, signIn, signOut, staffStream, watchAuth } from "./login.js";
import { onDeviceEvent, printTicket, readCard, setAgents } from "./frontdesk-devices.js";
import { drawQr, fillPrint } from "./frontdesk-ticket.js";

const DESK_ROLES = new Set(["clerk", "admin"]); // the server's rule (api/routes/desk.py)
const LANES = ["normal", "military", "special", "vip"];
const APPT_STATUS = {
  booked: ["已预约", "Booked"],
  checked_in: ["已签到", "Checked in"],
  cancelled: ["已取消", "Cancelled"],
  no_show: ["爽约", "No-show"],
};
const VISIT_STATUS = {
  requested: ["待安排", "Requested"],
  scheduled: ["已安排", "Scheduled"],
  done: ["已上门", "Done"],
  rejected: ["不予安排", "Rejected"],
  cancelled: ["已取消", "Cancelled"],
};
const s = { me: null, hall: null, info: null, queues: [], queue: null, lane: "normal", issued: null, busy: false };

const queueName = (code) => {
  const q = s.queues.find((x) => x.code === code);
  return q ? [q.name, q.name_en] : [code, code];
};
const tz = () => (s.info && s.info.timezone) || undefined;
const today = () => {
  const p = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: tz(), year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
};

function statusBadge(map, status) {
  const b = el("span", `badge st-${status}`, bi(pair(map, status)));
  b.dataset.status = status;
  return b;
}

// ------------------------------------------------------------------ walk-in tickets
function renderTiles() {
  const tiles = s.queues.map((q) => {
    const b = el("button", "fd-tile", el("span", "q-code", q.code), el("span", "fd-tile-name", bi([q.name, q.name_en])),
      el("span", "fd-tile-load", q.waiting ? `等候 ${q.waiting} 人 · 约 ${minutes(q.estimated_wait_s)} 分` : "无人等候 · 0"));
    b.type = "button";
    b.dataset.queue = q.code;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(q.code === s.queue));
    b.onclick = () => { s.queue = q.code; renderTiles(); };
    return b;
  });
  $("walkin-queues").replaceChildren(...tiles);
  $("walkin-take").disabled = !s.queue || s.busy;
}

/** 需要语言服务: the languages the hall offers besides Chinese, for a walk-in who needs an interpreter. */
function renderInterpreters() {
  const offered = ((s.info && s.info.languages) || ["zh", "en"]).filter((x) => x !== "zh" && INTERPRETER[x]);
  $("walkin-interpreter").replaceChildren(el("option", null, "不需要 · No"),
    ...offered.map((x) => { const o = el("option", null, `${INTERPRETER[x][0]} · ${INTERPRETER[x][1]}`); o.value = x; return o; }));
  $("walkin-interpreter").firstChild.value = "";
}

function renderLanes() {
  $("walkin-lanes").replaceChildren(...LANES.map((lane) => {
    const b = el("button", `fd-lane lane-${lane}`, bi(pair(LANE, lane)));
    b.type = "button";
    b.dataset.lane = lane;
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(lane === s.lane));
    b.onclick = () => { s.lane = lane; renderLanes(); };
    return b;
  }));
}

async function loadQueues() {
  try {
    s.queues = await get(`${hallPath(s.hall)}/queues`);
    renderTiles();
  } catch (err) {
    notify(err.message);
  }
}

async function takeNumber(e) {
  e.preventDefault();
  if (!s.queue || s.busy) return;
  const body = { queue: s.queue, lane: s.lane, channel: "counter" };
  const idn = $("walkin-id").value.trim();
  const phone = $("walkin-phone").value.trim();
  if (idn) body.id_number = idn;
  if (phone) body.phone = phone;
  const interpreter = $("walkin-interpreter").value;
  if (interpreter) body.interpreter = interpreter;
  s.busy = true;
  renderTiles();
  try {
    const t = await post(`${hallPath(s.hall)}/tickets`, body);
    $("walkin-id").value = "";
    $("walkin-phone").value = "";
    $("walkin-interpreter").value = "";
    s.lane = "normal";
    renderLanes();
    await showTicket(t, "");
    notify(`已出票 ${t.number} · Ticket ${t.number} issued`, "ok");
    loadQueues();
  } catch (err) {
    notify(err.message);
  } finally {
    s.busy = false;
    renderTiles();
  }
}

/** The tracking page's address: the answer's `track_url` when the server gives one, else the token's URL. */
function trackUrl(t) {
  if (t.track_url) return t.track_url;
  return `${location.origin}/api/v1/track/${encodeURIComponent(t.track_token || "")}`;
}

async function showTicket(t, note) {
  s.issued = t;
  const [zh, en] = queueName(t.queue);
  const qrBox = el("div", "fd-qr");
  const print = el("button", "primary", bi(["打印", "Print"]));
  print.type = "button";
  print.id = "print";
  const clear = el("button", null, bi(["完成", "Done"]));
  clear.type = "button";
  clear.onclick = () => {
    s.issued = null;
    $("issued").replaceChildren(el("p", "muted", "取号后在此显示 · The next ticket shows here."));
  };
  const card = el("div", "fd-ticket",
    el("div", "fd-ticket-number", t.number),
    el("div", "fd-ticket-domain", bi([zh, en]), t.lane !== "normal" ? el("span", `lane lane-${t.lane}`, pair(LANE, t.lane)[0]) : null),
    el("div", "fd-ticket-ahead", `前面还有 ${t.ahead} 人 · 约 ${minutes(t.estimated_wait_s)} 分钟`,
      el("span", "en", `${t.ahead} ahead · ~${minutes(t.estimated_wait_s)} min`)),
    el("div", "fd-ticket-time", clockTime(t.issued_at, tz())),
    note ? el("p", "fd-note", note) : null,
    t.phone_masked ? el("div", "muted", `短信叫号 · SMS to ${t.phone_masked}`) : null,
  );
  card.dataset.number = t.number;
  $("issued").replaceChildren(el("div", "fd-ticket-wrap", card, qrBox), el("div", "fd-row fd-ticket-actions", print, clear));
  const url = trackUrl(t);
  let qr = null;
  try {
    qr = await post(`${hallPath(s.hall)}/desk/qr`, { text: url });
    qrBox.replaceChildren(drawQr(qr), el("div", "fd-qr-hint", "扫码查看排队进度 · Scan to follow your turn"));
    qrBox.dataset.url = url;
  } catch (err) {
    qrBox.replaceChildren(el("p", "muted", err.message));
  }
  // the desk's printer through its agent; the browser's print dialog when none is connected (the page says so)
  print.onclick = () => printTicket(t, () => {
    fillPrint($("print-ticket"), { hall: s.info, ticket: t, domain: [zh, en], qr, tz: tz() });
    document.body.dataset.printed = t.number;
    window.print();
  });
}

// ------------------------------------------------------------------ appointments
async function loadAppointments(q = "") {
  try {
    const rows = await get(`${hallPath(s.hall)}/desk/appointments?date=${today()}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    $("appt-count").textContent = String(rows.length);
    const items = rows.map((a) => {
      const li = el("li", "fd-item",
        el("span", "fd-time", `${clockTime(a.start, tz())}–${clockTime(a.end, tz())}`),
        el("span", "q-code", a.queue),
        el("span", "fd-who", a.name_masked, el("span", "muted", ` ${a.phone_masked || ""}`)),
        el("span", "fd-code", a.code),
        el("span", "muted fd-chan", pair(CHANNEL, a.channel)[0]),
        statusBadge(APPT_STATUS, a.status));
      li.dataset.code = a.code;
      if (a.status === "booked") {
        const b = el("button", "primary fd-act", bi(["签到", "Check in"]));
        b.type = "button";
        b.onclick = () => checkIn(() => post(`/api/v1/appointments/${encodeURIComponent(a.code)}/check-in`), b);
        li.append(b);
      }
      return li;
    });
    if (items.length === 0) items.push(el("li", "empty", q ? "没有找到预约 · No appointment found" : "今日无预约 · No appointments today"));
    $("appts").replaceChildren(...items);
  } catch (err) {
    notify(err.message);
  }
}

async function checkIn(run, button) {
  if (button) button.disabled = true;
  try {
    const t = await run();
    await showTicket(t, t.note || "");
    notify(`预约已签到，票号 ${t.number} · Checked in: ${t.number}`, "ok");
    loadAppointments($("appt-q").value.trim());
    loadQueues();
  } catch (err) {
    notify(err.message);
    if (button) button.disabled = false;
  }
}

// ------------------------------------------------------------------ missed calls (过号) and rejoin
async function loadNoShows() {
  try {
    const rows = await get(`${hallPath(s.hall)}/desk/no-shows`);
    $("noshow-count").textContent = String(rows.length);
    const items = rows.map((t) => {
      const b = el("button", "primary fd-act", bi(["重新排队", "Rejoin"]));
      b.type = "button";
      b.dataset.rejoin = String(t.id);
      b.onclick = () => rejoin(t, b);
      // the hall's rule (rejoin_* keys) may refuse it: the button stays, disabled, with the reason beside it
      const refused = t.rejoin_refusal ? t.rejoin_refusal.split(" / ") : null;
      b.disabled = Boolean(refused);
      const li = el("li", "fd-item", el("span", "t-number", t.number), el("span", "q-code", t.queue),
        el("span", "muted", t.window ? `${t.window} 号窗口过号 · missed at window ${t.window}` : ""),
        el("span", "fd-time", t.missed_at ? clockTime(t.missed_at, tz()) : ""),
        t.recalls ? el("span", "muted", `重呼 ${t.recalls} 次`) : null,
        t.rejoins ? el("span", "muted", `已重排 ${t.rejoins} 次 · rejoined ${t.rejoins}×`) : null,
        refused ? el("span", "fd-refusal", bi([refused[0], refused[1] || ""])) : null, b);
      li.dataset.number = t.number;
      if (refused) li.dataset.refused = "1";
      return li;
    });
    if (items.length === 0) items.push(el("li", "empty", "今日没有过号 · No missed calls today"));
    $("noshows").replaceChildren(...items);
  } catch (err) {
    notify(err.message);
  }
}

async function rejoin(t, button) {
  button.disabled = true;
  try {
    const r = await post(`/api/v1/tickets/${t.id}/rejoin`);
    notify(`${r.number} 已重新排队，前面还有 ${r.ahead} 人 · ${r.number} rejoined, ${r.ahead} ahead`, "ok");
    loadNoShows();
    loadQueues();
  } catch (err) {
    notify(err.message);
    button.disabled = false;
  }
}

async function loadSetup() {
  try {
    const setup = await get(`${hallPath(s.hall)}/desk/setup`);
    const [zh, en] = setup.rejoin_rule.split(" / ");
    $("rejoin-rule").replaceChildren(bi([zh, en || ""]));
    setAgents(s.hall, setup.agents);
  } catch (err) {
    notify(err.message);
  }
}

// ------------------------------------------------------------------ home visits
async function loadVisits() {
  try {
    const rows = await get(`${hallPath(s.hall)}/home-visits`);
    const open = rows.filter((v) => v.status === "requested" || v.status === "scheduled");
    $("visit-count").textContent = String(open.length);
    const items = rows.slice(-30).reverse().map((v) => {
      const li = el("li", "fd-item", el("span", "fd-code", v.code), el("span", "q-code", v.queue),
        el("span", "fd-who", v.name_masked, el("span", "muted", ` ${v.phone_masked}`)),
        el("span", "muted fd-reason", v.reason || ""), statusBadge(VISIT_STATUS, v.status));
      li.dataset.code = v.code;
      return li;
    });
    if (items.length === 0) items.push(el("li", "empty", "暂无上门申请 · No requests"));
    $("visits").replaceChildren(...items);
  } catch (err) {
    $("visits").replaceChildren(el("li", "empty", err.message));
  }
}

function queueOptions(select, codes) {
  select.replaceChildren(...s.queues.filter((q) => !codes || codes.includes(q.code)).map((q) => {
    const o = el("option", null, `${q.code} ${q.name} · ${q.name_en}`);
    o.value = q.code;
    return o;
  }));
}

function openVisit() {
  queueOptions($("visit-queue"));
  $("visit-error").textContent = "";
  $("visit-dialog").showModal();
  $("visit-name").focus();
}

async function saveVisit(e) {
  e.preventDefault();
  const body = {
    queue: $("visit-queue").value, name: $("visit-name").value.trim(), id_number: $("visit-id").value.trim(),
    phone: $("visit-phone").value.trim(), address: $("visit-address").value.trim(),
    reason: $("visit-reason").value.trim(), disabled: $("visit-disabled").checked,
  };
  $("visit-save").disabled = true;
  try {
    const v = await post(`${hallPath(s.hall)}/home-visits`, body);
    $("visit-dialog").close();
    $("visit-form").reset();
    notify(`上门申请已登记，编号 ${v.code} · Home visit requested: ${v.code}`, "ok");
    loadVisits();
  } catch (err) {
    $("visit-error").textContent = err.message;
  } finally {
    $("visit-save").disabled = false;
  }
}

// ------------------------------------------------------------------ hotline booking (电话预约)
async function loadSlots() {
  const queue = $("book-queue").value;
  const day = $("book-date").value;
  const sel = $("book-slot");
  sel.replaceChildren();
  if (!queue || !day) return;
  try {
    const rows = await get(`${hallPath(s.hall)}/slots?queue=${encodeURIComponent(queue)}&date=${day}`);
    const now = Date.now();
    const open = rows.filter((r) => r.booked < r.capacity && Date.parse(r.start) > now);
    sel.replaceChildren(...open.map((r) => {
      const o = el("option", null, `${clockTime(r.start, tz())}–${clockTime(r.end, tz())}  余 ${r.capacity - r.booked}`);
      o.value = r.start;
      return o;
    }));
    if (open.length === 0) sel.append(el("option", null, "当日无可约时段 · No free slot"));
  } catch (err) {
    $("booking-error").textContent = err.message;
  }
}

function openBooking() {
  queueOptions($("book-queue"), (s.info && s.info.booking_queues) || null);
  $("book-date").value = today();
  $("booking-error").textContent = "";
  $("booking-dialog").showModal();
  loadSlots();
  $("book-name").focus();
}

async function saveBooking(e) {
  e.preventDefault();
  const start = $("book-slot").value;
  if (!start || !start.includes("T")) {
    $("booking-error").textContent = "请选择时段 / Choose a slot";
    return;
  }
  const body = {
    queue: $("book-queue").value, start, name: $("book-name").value.trim(), id_number: $("book-id").value.trim(),
    phone: $("book-phone").value.trim(), channel: "phone",
  };
  $("booking-save").disabled = true;
  try {
    const a = await post(`${hallPath(s.hall)}/appointments`, body);
    $("booking-dialog").close();
    $("booking-form").reset();
    notify(`已预约 ${clockTime(a.start, tz())}，预约码 ${a.code}（请告知来电人）· Booked, code ${a.code}`, "ok");
    $("appt-q").value = a.code;
    loadAppointments(a.code);
  } catch (err) {
    $("booking-error").textContent = err.message;
  } finally {
    $("booking-save").disabled = false;
  }
}

// ------------------------------------------------------------------ page
const refresh = throttle(() => { loadQueues(); loadNoShows(); }, 1000);
const refreshAppts = throttle(() => loadAppointments($("appt-q").value.trim()), 1000);
const refreshVisits = throttle(loadVisits, 1000);
const refreshSetup = throttle(loadSetup, 1000);

function onEvent(msg) {
  const type = msg.type || "";
  onDeviceEvent(msg, refreshSetup);
  if (type.startsWith("ticket.") || type === "queue.stats") refresh();
  if (type.startsWith("appointment.")) refreshAppts();
  if (type.startsWith("home_visit.")) refreshVisits();
}

function bind() {
  $("walkin-form").onsubmit = takeNumber;
  $("walkin-read").onclick = () => readCard("walkin");
  $("appt-read").onclick = () => readCard("appt");
  $("book-read").onclick = () => readCard("booking");
  $("visit-read").onclick = () => readCard("visit");
  $("appt-search").onsubmit = (e) => { e.preventDefault(); loadAppointments($("appt-q").value.trim()); };
  $("appt-all").onclick = () => { $("appt-q").value = ""; loadAppointments(); };
  $("appt-id-form").onsubmit = (e) => {
    e.preventDefault();
    const idn = $("appt-id").value.trim();
    if (!idn) return;
    checkIn(() => post(`${hallPath(s.hall)}/appointments/check-in`, { id_number: idn }), null).then(() => { $("appt-id").value = ""; });
  };
  $("open-booking").onclick = openBooking;
  $("booking-cancel").onclick = () => $("booking-dialog").close();
  $("booking-form").onsubmit = saveBooking;
  $("book-queue").onchange = loadSlots;
  $("book-date").onchange = loadSlots;
  $("open-visit").onclick = openVisit;
  $("visit-cancel").onclick = () => $("visit-dialog").close();
  $("visit-form").onsubmit = saveVisit;
}

async function main() {
  watchAuth();
  $("logout").onclick = signOut;
  $("fatal-logout").onclick = signOut;
  s.me = await signIn();
  if (!DESK_ROLES.has(s.me.role)) {
    fatal(`总服务台仅供窗口工作人员使用（您的角色：${s.me.role}）/ For desk staff (clerks) only; your role is ${s.me.role}`);
    return;
  }
  ({ code: s.hall, info: s.info } = await chooseHall(s.me));
  if (!s.info) {
    fatal("没有这个大厅 / No such hall");
    return;
  }
  $("hall-name").textContent = `${s.info.name} ${s.info.name_en || ""}`;
  $("user").textContent = `${s.me.name} (${s.me.role})`;
  document.title = `总服务台 · ${s.info.name}`;
  bind();
  renderLanes();
  renderInterpreters();
  $("hall").hidden = false;
  await Promise.all([loadSetup(), loadQueues(), loadAppointments(), loadNoShows(), loadVisits()]);
  document.body.dataset.ready = "1";
  const stream = staffStream(s.hall, {
    onSnapshot: () => refresh(),
    onEvent,
  });
  stream.start();
  everySecond(() => { $("clock").textContent = wallClock(tz()); });
  setInterval(tick, 1000);
}

main();
