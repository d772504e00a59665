// The desk's ticket: its QR code as SVG (modules from the server) and the 80 mm print layout of ux.md.

import { bi, clockTime, el, minutes } from "./dom.js";
import { LANE, pair } from "./labels.js";

const SVG = "http://www.w3.org/2000/svg";
const QUIET = 4; // modules of white around the code: phone cameras need it

/** An SVG of the QR code `{size, rows}` (rows of "0"/"1"); each row's dark runs are one rectangle. */
export function drawQr(qr) {
  const n = qr.size + 2 * QUIET;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n} ${n}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "二维码 QR code");
  const bg = document.createElementNS(SVG, "rect");
  bg.setAttribute("width", String(n));
  bg.setAttribute("height", String(n));
  bg.setAttribute("fill", "#fff");
  svg.append(bg);
  qr.rows.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (row[x] !== "1") { x += 1; continue; }
      let end = x;
      while (end < row.length && row[end] === "1") end += 1;
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", String(x + QUIET));
      r.setAttribute("y", String(y + QUIET));
      r.setAttribute("width", String(end - x));
      r.setAttribute("height", "1");
      svg.append(r);
      x = end;
    }
  });
  return svg;
}

/** Fill the print-only section with the ticket as the kiosk prints it (80 mm: Chinese with English lines). */
export function fillPrint(box, { hall, ticket, domain, qr, tz }) {
  const t = ticket;
  box.replaceChildren(
    el("div", "pt-hall", hall ? hall.name : ""),
    el("div", "pt-hall-en", hall ? hall.name_en || "" : ""),
    el("hr"),
    el("div", "pt-number", t.number),
    el("hr"),
    el("div", "pt-line", bi(domain), t.lane !== "normal" ? ` [${pair(LANE, t.lane)[0]}]` : ""),
    el("div", "pt-line", `前面还有 ${t.ahead} 人 · 约 ${minutes(t.estimated_wait_s)} 分钟`),
    el("div", "pt-line", `${(t.issued_at || "").slice(0, 10)} ${clockTime(t.issued_at, tz)}`),
    qr ? el("div", "pt-qr", drawQr(qr)) : null,
    el("div", "pt-foot", "扫码查看排队进度 · Scan to follow your turn"),
    el("div", "pt-foot", "过号请到总服务台 · 请妥善保管本票"),
  );
}
