// The general desk's own devices through its desk agent (peripherals/desk_agent): 读卡 reads the card on the
// desk's SAM / PC/SC reader and fills a form; 打印 prints the ticket on the desk's ESC/POS printer. Requests go
// to the server, answers come back as hall events (desk.card_read, desk.printed) for this page's request only;
// a card's data is fetched once with the clerk's token (never in the stream). With no agent connected the
// page says so and falls back: the keyboard-wedge reader or typing, and the browser's print dialog.

import { get, hallPath, post } from "./api.js";
import { $, bi, notify } from "./dom.js";

const PRINT_WAIT_MS = 12000; // no answer from the agent by then: the browser prints instead
const READ_WAIT_MS = 20000; // the agent waits 10 s for a card; no answer by then: say so
const NO_READER = "未连接总服务台读卡器：请用USB读卡器刷卡或手工输入 / No desk card reader connected: swipe a USB reader or type the number";
const NO_PRINTER = "未连接总服务台打印机，已改用浏览器打印 / No desk printer connected: printing through the browser";
// Which fields a card fills, by the form that asked for it.
const FILLS = {
  walkin: { id: "walkin-id" },
  appt: { id: "appt-id" },
  booking: { id: "book-id", name: "book-name" },
  visit: { id: "visit-id", name: "visit-name" },
};

const dev = { hall: null, agents: [], name: null, read: null, job: null, timer: null };

const agent = () => dev.agents.find((a) => a.name === dev.name) || null;
const online = () => Boolean(agent() && agent().online);

/** The hall's desk agents from `GET …/desk/setup` (`?desk=NAME` picks one; else the first connected one). */
export function setAgents(hall, agents) {
  dev.hall = hall;
  dev.agents = agents || [];
  const wanted = new URLSearchParams(location.search).get("desk");
  if (!agent()) {
    const pick = dev.agents.find((a) => a.name === wanted) || dev.agents.find((a) => a.online) || dev.agents[0];
    dev.name = pick ? pick.name : null;
  }
  const box = $("desk-devices");
  const a = agent();
  box.dataset.online = String(online());
  box.dataset.device = a ? a.name : "";
  if (!a) box.replaceChildren(bi(["无读卡器/打印机", "No desk devices"]));
  else if (a.online) {
    const trouble = a.status !== "ok" ? ` (${a.status})` : "";
    box.replaceChildren(bi([`读卡器/打印机 ${a.name} 已连接${trouble}`, `Desk devices connected${trouble}`]));
  } else box.replaceChildren(bi([`读卡器/打印机 ${a.name} 未连接`, "Desk devices not connected"]));
  box.title = a ? a.detail || "" : "";
}

/** 读卡 for the form `target` (walkin, appt, booking, visit): ask the agent; the card comes as an event. */
export async function readCard(target) {
  if (!online()) {
    notify(NO_READER);
    return;
  }
  try {
    const r = await post(`${hallPath(dev.hall)}/desk/read`, { device: dev.name });
    dev.read = { request: r.request, target };
    notify("请将身份证放在读卡器上… / Place the ID card on the reader…", "ok");
    setTimeout(() => {
      if (dev.read && dev.read.request === r.request) {
        dev.read = null;
        notify("读卡器无应答，请重试或手工输入 / The card reader did not answer: try again or type the number");
      }
    }, READ_WAIT_MS);
  } catch (err) {
    notify(err.message);
  }
}

async function cardRead(d) {
  if (!dev.read || d.request !== dev.read.request) return; // another desk's, or another page's request
  const { target } = dev.read;
  dev.read = null;
  if (!d.read) {
    notify(d.error || "未读到卡 / No card was read");
    return;
  }
  try {
    const card = await get(`${hallPath(dev.hall)}/desk/cards/${d.read}`);
    if (card.kind !== "id_card") {
      notify("这张卡不是居民身份证，请换卡或手工输入 / Not a resident ID card: use the ID card or type the number");
      return;
    }
    const fill = FILLS[target] || FILLS.walkin;
    $(fill.id).value = card.id_number;
    if (fill.name) $(fill.name).value = card.name;
    $(fill.id).dispatchEvent(new Event("input", { bubbles: true }));
    document.body.dataset.cardRead = target;
    notify("已读取身份证 · ID card read", "ok");
  } catch (err) {
    notify(err.message);
  }
}

function fallBack(job, why) {
  clearTimeout(dev.timer);
  dev.job = null;
  document.body.dataset.printedVia = "browser";
  notify(why);
  job.browserPrint();
}

/** 打印: the ticket on the desk's printer, or the browser's print when no agent can print it (and say so). */
export async function printTicket(ticket, browserPrint) {
  const job = { number: ticket.number, browserPrint };
  if (!online()) {
    fallBack(job, NO_PRINTER);
    return;
  }
  try {
    const r = await post(`${hallPath(dev.hall)}/desk/print`, { device: dev.name, ticket_id: ticket.id });
    dev.job = { ...job, job: r.job };
    clearTimeout(dev.timer);
    dev.timer = setTimeout(() => {
      if (dev.job && dev.job.job === r.job) fallBack(dev.job, "总服务台打印机无应答，已改用浏览器打印 / The desk printer did not answer: printing through the browser");
    }, PRINT_WAIT_MS);
    notify(`正在打印 ${ticket.number}… / Printing ${ticket.number}…`, "ok");
  } catch (err) {
    fallBack(job, `${err.message}；已改用浏览器打印 / printing through the browser`);
  }
}

function printed(d) {
  if (!dev.job || d.job !== dev.job.job) return;
  if (d.status === "printed") {
    clearTimeout(dev.timer);
    dev.job = null;
    document.body.dataset.printed = d.number;
    document.body.dataset.printedVia = "desk";
    notify(`${d.number} 已在总服务台打印机打印 · Printed on the desk printer`, "ok");
  } else {
    fallBack(dev.job, `总服务台打印机未能打印（${d.detail}），已改用浏览器打印 / The desk printer failed: printing through the browser`);
  }
}

/** Hall events for the desk's devices; `reload` refreshes the agents' state (a desk agent reported). */
export function onDeviceEvent(msg, reload) {
  const d = msg.data || {};
  if (msg.type === "desk.card_read") cardRead(d);
  else if (msg.type === "desk.printed") printed(d);
  else if (msg.type === "device.health" && d.role === "desk") reload();
}
