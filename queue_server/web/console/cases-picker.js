// The 事项 item picker of the case forms: a domain filter (the called ticket's domain first) and a search by
// name, English name, pinyin initials (gtgshdj, from the server's pypinyin), item code or keyword; the matching
// items in a list box (`select#new-item`, so the form reads `.value` as before).

import { el } from "./dom.js";

function option(value, text) {
  const o = el("option", null, text);
  o.value = value;
  return o;
}

const ALL = "";

/** What an item is found by, lower case. */
function haystack(i) {
  return [i.name, i.name_en, i.initials || "", i.code, ...(i.keywords || [])].join(" ").toLowerCase();
}

/**
 * The picker for `items` (`/api/v1/items`); `domain` the ticket's domain name (市场准入), if any.
 * Returns `{ box, select, search }`; `onPick()` runs when the chosen item changes (after the first render).
 */
export function itemPicker(items, domain, onPick) {
  const counts = new Map();
  for (const i of items) counts.set(i.domain, (counts.get(i.domain) || 0) + 1);
  const dom = el("select", "ip-domain", option(ALL, `全部领域 All (${items.length})`));
  dom.id = "new-item-domain";
  dom.setAttribute("aria-label", "领域 Domain");
  for (const [d, n] of counts) {
    const first = items.find((i) => i.domain === d);
    dom.append(option(d, `${d} ${first.domain_en} (${n})`));
  }
  dom.value = counts.has(domain) ? domain : ALL;

  const search = el("input", "ip-search");
  search.id = "new-item-q";
  search.type = "search";
  search.placeholder = "搜索：名称、拼音首字母或编码 · Search: name, pinyin initials or code";
  search.autocomplete = "off";
  search.spellcheck = false;
  search.maxLength = 64;

  const select = el("select", "ip-list");
  select.id = "new-item";
  select.size = 6;
  const count = el("span", "muted ip-count");
  const hay = new Map(items.map((i) => [i.code, haystack(i)]));

  const render = (initial = false) => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = items.filter((i) => (!dom.value || i.domain === dom.value) && words.every((w) => hay.get(i.code).includes(w)));
    const before = select.value;
    select.replaceChildren(...shown.map((i) => {
      const o = option(i.code, `${i.name} · ${i.name_en}`);
      o.title = `${i.code} · ${i.domain} ${i.domain_en}`;
      return o;
    }));
    select.value = shown.some((i) => i.code === before) ? before : "";
    if (shown.length === 1) select.value = shown[0].code; // one match: it is the one
    count.textContent = shown.length ? `${shown.length} 项 · ${shown.length} items` : "没有符合的事项 · No item matches";
    if (select.value !== before && !initial) onPick();
  };
  dom.onchange = () => render();
  search.oninput = () => render();
  search.onkeydown = (e) => {
    if (e.key === "ArrowDown" && select.options.length) {
      e.preventDefault();
      if (!select.value) select.value = select.options[0].value;
      select.focus();
      onPick();
    } else if (e.key === "Enter") {
      e.preventDefault(); // never submits the form from the search field; picks the first match
      if (select.options.length && !select.value) {
        select.value = select.options[0].value;
        onPick();
      }
    }
  };
  select.onchange = onPick;
  render(true); // the caller reads `select.value` once it is ready
  const box = el("div", "item-picker", el("div", "ip-row", dom, search), select, count);
  return { box, select, search };
}
