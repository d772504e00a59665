// Keyboard of the clerk console: F-keys on the action buttons, a USB number pad (digits, Enter, + - / * and
// "." then a digit for F1–F9), and in a dialog one key per choice. Every action is reachable from a number
// pad. F1–F10 never reach the browser (F5 would reload the page, F3 search, F1 open help).

import { $ } from "./dom.js";

const KEYPAD = { "+": "recall", "-": "no-show", "/": "start", "*": "complete" };
const FKEY = /^F([1-9]|10)$/;

/** Whether the key went to a text field (then it is the clerk's typing, not a command). */
export function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/**
 * In a dialog: F1… or (after ".") a digit presses the choice marked with that key; in the transfer dialog a
 * letter picks a domain and a window's number (then Enter, unless it can mean only one window) picks it.
 */
function onDialogKey(e, st) {
  const dlg = document.querySelector("dialog[open]");
  if (!dlg || typing(e.target) || e.ctrlKey || e.altKey || e.metaKey) return;
  const k = e.key.toUpperCase();
  let b = null;
  if (FKEY.test(e.key)) {
    e.preventDefault();
    b = dlg.querySelector(`button[data-key="${e.key}"]`);
  } else if (e.key === ".") {
    st.dot = true;
    e.preventDefault();
    return;
  } else if (/^[0-9]$/.test(k) && (st.dot || dlg.dataset.digits === "choice")) {
    st.dot = false;
    b = dlg.querySelector(`button[data-key="F${k}"]`);
  } else if (/^[A-Z]$/.test(k)) {
    b = dlg.querySelector(`button[data-queue="${k}"]`);
  } else if (/^[0-9]$/.test(k)) {
    st.digits = (st.digits + k).slice(-3);
    const n = Number(st.digits);
    const wins = [...dlg.querySelectorAll("button[data-window]")].map((x) => x.dataset.window);
    const longer = wins.some((w) => w.length > st.digits.length && w.startsWith(String(n)));
    if (!longer) {
      b = dlg.querySelector(`button[data-window="${n}"]`);
      st.digits = "";
    }
    e.preventDefault();
  } else if (e.key === "Enter" && st.digits) {
    b = dlg.querySelector(`button[data-window="${Number(st.digits)}"]`);
    st.digits = "";
  } else if (e.key === "Escape" || e.key === "Backspace") {
    st.digits = "";
    st.dot = false;
    return;
  }
  if (b) {
    e.preventDefault();
    st.digits = "";
    b.click();
  }
}

function press(action) {
  const b = $("actions").querySelector(`button[data-action="${action}"]`);
  if (b && !b.disabled) b.click();
}

/**
 * Listen to the keyboard. `active()` says whether the desk is showing; `callByText(digits)` calls a
 * number typed on the keypad.
 */
export function installKeys({ active, callByText }) {
  let buffer = "";
  const dialog = { digits: "", dot: false };
  let dot = false; // "." on the number pad: the next digit presses that F-key
  const show = () => {
    $("keypad").textContent = dot ? "F…" : buffer;
    $("keypad").hidden = buffer === "" && !dot;
  };
  show();
  addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]")) {
      onDialogKey(e, dialog);
      return;
    }
    dialog.digits = "";
    dialog.dot = false;
    if (!active()) return;
    if (FKEY.test(e.key)) e.preventDefault(); // never reload, search or help on the desk
    const callField = e.target instanceof HTMLElement && e.target.id === "call-number";
    // F-keys act from the 叫指定号 field too (it keeps the focus after a call); other fields keep their keys.
    if ((typing(e.target) && !(callField && FKEY.test(e.key))) || e.ctrlKey || e.altKey || e.metaKey) return;
    if (callField) e.target.blur();
    let key = e.key;
    if (dot && /^[0-9]$/.test(key)) key = `F${key === "0" ? 10 : key}`;
    dot = false;
    const button = $("actions").querySelector(`button[data-key="${key}"]`);
    if (button) {
      e.preventDefault();
      buffer = "";
      show();
      if (!button.disabled) button.click();
      return;
    }
    if (/^[0-9]$/.test(key)) {
      buffer = (buffer + key).slice(-4);
    } else if (key === ".") {
      dot = true;
    } else if (key === "Enter") {
      const typed = buffer;
      buffer = "";
      if (typed) callByText(typed);
      else press("call-next");
    } else if (key === "Backspace") {
      buffer = buffer.slice(0, -1);
    } else if (key === "Escape") {
      buffer = "";
    } else if (KEYPAD[key]) {
      press(KEYPAD[key]);
    } else {
      return;
    }
    e.preventDefault();
    show();
  });
}
