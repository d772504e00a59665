// The login form shared by the staff pages: nothing is shown or fetched before a valid token exists.
// The form and the fatal box are drawn here, into the page's one placeholder `<div id="staff-gate">`,
// titled after the page's <title> ("窗口叫号台 / Clerk console").

import { forget, get, login, token } from "./api.js";
import { $, el } from "./dom.js";
import { HallStream } from "/static/shared/stream.js";

function field(id, zh, en, attrs) {
  const input = el("input");
  input.id = id;
  for (const [k, v] of Object.entries(attrs)) input.setAttribute(k, v);
  return el("label", null, el("span", null, `${zh} `, el("span", "en", en)), input);
}

/** Draw the login form (`#login`) and the fatal box (`#fatal`) in place of `#staff-gate`; once. */
export function drawGate() {
  const holder = $("staff-gate");
  if (!holder) return;
  const [zh, en = ""] = document.title.split(" / ");
  const submit = el("button", "primary", "登录 ", el("span", "en", "Log in"));
  submit.type = "submit";
  const error = el("p", "error");
  error.id = "login-error";
  error.setAttribute("role", "alert");
  const form = el("form", "login-card",
    el("h1", null, `${zh} `, el("span", "en", en)),
    field("login-user", "用户名", "Username", { name: "username", required: "", maxlength: "64", autocomplete: "username" }),
    field("login-pass", "密码", "Password",
      { name: "password", type: "password", required: "", maxlength: "256", autocomplete: "current-password" }),
    submit, error);
  form.id = "login-form";
  form.autocomplete = "off";
  const login = el("section", "login", form);
  login.id = "login";
  login.hidden = true;
  const text = el("p");
  text.id = "fatal-text";
  text.setAttribute("role", "alert");
  const out = el("button", null, "退出登录 ", el("span", "en", "Log out"));
  out.type = "button";
  out.id = "fatal-logout";
  out.onclick = signOut;
  const box = el("section", "fatal", text, out);
  box.id = "fatal";
  box.hidden = true;
  holder.replaceWith(login, box);
}

// Drawn when the module loads (module scripts run after the page is parsed), so a page's own start-up
// finds #login and #fatal as if they were in its HTML.
drawGate();

/** Resolve with `/auth/me` once the user is logged in (asking with the form when needed). */
export async function signIn() {
  if (token()) {
    try {
      const me = await get("/api/v1/auth/me");
      if (me.kind === "user") return me;
    } catch {
      /* expired or invalid: ask again */
    }
    forget();
  }
  return new Promise((resolve) => {
    const form = $("login-form");
    const box = $("login");
    box.hidden = false;
    $("login-user").focus();
    form.onsubmit = async (e) => {
      e.preventDefault();
      $("login-error").textContent = "";
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await login($("login-user").value.trim(), $("login-pass").value);
        const me = await get("/api/v1/auth/me");
        $("login-pass").value = "";
        box.hidden = true;
        resolve(me);
      } catch (err) {
        $("login-error").textContent = err.message;
      } finally {
        button.disabled = false;
      }
    };
  });
}

/** Log out: forget the token and start over at the login form. */
export function signOut() {
  forget();
  location.reload();
}

/** When the server says the token is no longer valid, go back to the login form. */
export function watchAuth() {
  addEventListener("auth-lost", () => location.reload());
}

/** Replace the page with a plain error (e.g. a hall the user does not belong to). */
export function fatal(text) {
  for (const id of ["desk", "picker", "hall"]) {
    const e = $(id);
    if (e) e.hidden = true;
  }
  const box = $("fatal");
  box.hidden = false;
  $("fatal-text").textContent = text;
}

/**
 * The hall a staff page shows: `?hall=`, else the user's own, else the first; an admin of several halls
 * gets the page's hall picker (`#hall-select`), which reloads the page on the chosen hall.
 * Resolves with the hall's code and its `/api/v1/halls` entry (`info`, null for an unknown code).
 */
export async function chooseHall(me) {
  const halls = await get("/api/v1/halls");
  const code = new URLSearchParams(location.search).get("hall") || me.hall || (halls[0] && halls[0].code);
  if (me.role === "admin" && halls.length > 1) {
    const sel = $("hall-select");
    sel.replaceChildren(...halls.map((h) => {
      const o = el("option", null, `${h.name} (${h.code})`);
      o.value = h.code;
      return o;
    }));
    sel.value = code;
    sel.hidden = false;
    sel.onchange = () => { location.search = `?hall=${encodeURIComponent(sel.value)}`; };
  }
  return { code, info: halls.find((h) => h.code === code) || null };
}

/**
 * The hall's event stream for a staff page (`handlers`: onSnapshot, onEvent): the page's `#conn` mark
 * follows the connection; a refused token sends the user back to the login form, a refused hall ends the
 * page with `notYourHall(text)` (by default `fatal`).
 */
export function staffStream(hall, handlers, notYourHall = fatal) {
  return new HallStream(hall, token, {
    ...handlers,
    onStatus: (online) => {
      $("conn").dataset.online = String(online);
      $("conn").textContent = online ? "● 在线 Live" : "● 连接中断 Offline";
    },
    onRefused: (code) => {
      if (code === 4401) dispatchEvent(new CustomEvent("auth-lost")); // the token expired: log in again
      else notYourHall("事件流拒绝连接：无权查看该大厅 / The event stream refused: not your hall");
    },
  });
}
