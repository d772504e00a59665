// 办件查询 page: asks GET /api/v1/cases/{number}/status?proof=… and shows the masked timeline.
// Every value is rendered with textContent (never innerHTML).

const S = {
  title: "办件查询", title_en: "Case query",
  number: "办件编号 / Case number",
  proof: "查询码或身份证号后四位 / Query code or last 4 of the ID number",
  search: "查询 / Search",
  status: "当前状态 / Status: ",
  deadline: "承诺办结日期 / Due by: ",
  notFound: "办件编号或查询码不正确 / Wrong case number or query code",
  busy: "查询过于频繁，请稍后再试 / Too many queries; try again later",
  failed: "查询失败，请稍后再试 / The query failed; try again later",
  green: "正常 / On time", yellow: "临近期限 / Due soon", red: "即将超期或已超期 / Due now or overdue",
};

const $ = (id) => document.getElementById(id);

function strings() {
  for (const el of document.querySelectorAll("[data-s]")) el.textContent = S[el.dataset.s];
}

function fmt(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function show(c) {
  $("item").textContent = `${c.item.name} / ${c.item.name_en} · ${c.number}`;
  $("status").textContent = c.status_label;
  const line = $("deadline-line");
  line.hidden = !c.deadline;
  $("deadline").textContent = c.deadline || "";
  const light = $("light");
  light.className = "light" + (c.light ? ` ${c.light}` : "");
  light.textContent = c.light ? S[c.light] : "";
  const list = $("timeline");
  list.replaceChildren(...c.timeline.map((t) => {
    const li = document.createElement("li");
    const at = document.createElement("time");
    at.dateTime = t.at;
    at.textContent = fmt(t.at);
    li.append(at, document.createTextNode(t.label));
    return li;
  }));
  $("result").hidden = false;
  document.body.dataset.status = c.status;
}

async function ask(number, proof) {
  $("error").hidden = true;
  $("result").hidden = true;
  const url = `/api/v1/cases/${encodeURIComponent(number)}/status?proof=${encodeURIComponent(proof)}`;
  let r;
  try {
    r = await fetch(url, { cache: "no-store" });
  } catch {
    r = null;
  }
  if (r && r.ok) {
    show(await r.json());
    return;
  }
  const e = $("error");
  e.textContent = !r ? S.failed : r.status === 404 || r.status === 422 ? S.notFound : r.status === 429 ? S.busy : S.failed;
  e.hidden = false;
  document.body.dataset.status = "error";
}

strings();
$("ask").addEventListener("submit", (ev) => {
  ev.preventDefault();
  ask($("number").value.trim().toUpperCase(), $("proof").value.trim());
});
const params = new URLSearchParams(location.search);
if (params.get("n")) {
  $("number").value = params.get("n");
  if (params.get("p")) {
    $("proof").value = params.get("p");
    ask(params.get("n"), params.get("p"));
  }
}
document.body.dataset.ready = "1";
