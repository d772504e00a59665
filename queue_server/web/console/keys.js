// Keyboard of the clerk console: F-keys on the action buttons, a USB number pad (digits, Enter, + - / *),
// one key to pick a transfer target. Nothing fires while the clerk types in a field.

import { $ } from "./dom.js";

const KEYPAD = { "+": "recall", "-": "no-show", "/": "start", "*": "complete" };

/** Whether the key went to a text field (then it is the clerk's typing, not a command). */
export function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/** In the transfer dialog a letter picks a domain and a digit a window: one key, no mouse. */
function onDialogKey(e) {
  const dlg = $("transfer-dialog");
  if (!dlg.open || typing(e.target) || e.ctrlKey || e.altKey || e.metaKey) return;
  const k = e.key.toUpperCase();
  const b = /^[A-Z]$/.test(k) ? dlg.querySelector(`button[data-queue="${k}"]`)
    : /^[0-9]$/.test(k) ? dlg.querySelector(`button[data-window="${k}"]`) : null;
  if (b) {
    e.preventDefault();
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
  const show = () => {
    $("keypad").textContent = buffer;
    $("keypad").hidden = buffer === "";
  };
  show();
  addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]")) {
      onDialogKey(e);
      return;
    }
    if (!active() || typing(e.target) || e.ctrlKey || e.altKey || e.metaKey) return;
    const button = $("actions").querySelector(`button[data-key="${e.key}"]`);
    if (button) {
      e.preventDefault();
      if (!button.disabled) button.click();
      return;
    }
    if (/^[0-9]$/.test(e.key)) {
      buffer = (buffer + e.key).slice(-4);
    } else if (e.key === "Enter") {
      const typed = buffer;
      buffer = "";
      if (typed) callByText(typed);
      else press("call-next");
    } else if (e.key === "Backspace") {
      buffer = buffer.slice(0, -1);
    } else if (e.key === "Escape") {
      buffer = "";
    } else if (KEYPAD[e.key]) {
      press(KEYPAD[e.key]);
    } else {
      return;
    }
    e.preventDefault();
    show();
  });
}
