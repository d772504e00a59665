// 办件查询 page: asks GET /api/v1/cases/{number}/status?proof=… and shows the masked timeline; a chain's number
// (一链办理, L…) asks GET /api/v1/chain-cases/{number}/status and shows every member case.
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
  members: "一链办理的各事项 / The chain's items",
  steps: {
    submitted: "已提交，待受理 / Submitted", accepted: "已受理，并联审批 / Accepted, approvals in parallel",
    result_ready: "全部办结，待领取 / All decided, ready for collection", delivered: "已办结送达 / Delivered",
  },
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

function member(c) {
  const li = document.createElement("li");
  const name = document.createElement("strong");
  name.textContent = `${c.item.name} · ${c.number}`;
  const st = document.createElement("span");
  st.className = "member-status";
  st.textContent = c.status_label + (c.deadline ? ` · ${S.deadline}${c.deadline}` : "");
  li.append(name, st);
  li.dataset.status = c.status;
  return li;
}

function show(c) {
  const chain = Boolean(c.chain);
  $("members-box").hidden = !chain;
  $("members").replaceChildren(...(chain ? c.members.map(member) : []));
  if (chain) { // its own steps; each member's deadline is on its line
    const steps = [["submitted_at", "submitted"], ["accepted_at", "accepted"], ["ready_at", "result_ready"], ["delivered_at", "delivered"]];
    const timeline = steps.filter(([k]) => c[k]).map(([k, st]) => ({ at: c[k], label: S.steps[st] }));
    c = { ...c, item: c.chain, deadline: null, light: null, timeline };
  }
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
  const what = number.startsWith("L") ? "chain-cases" : "cases"; // 一链办理 numbers start with L
  const url = `/api/v1/${what}/${encodeURIComponent(number)}/status?proof=${encodeURIComponent(proof)}`;
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
