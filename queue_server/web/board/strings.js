// The boards' second line (the first is always Chinese): English, 한국어, 日本語, Русский, in turn through the hall's
// `languages` (board state `hall.languages`). The same words as the Kivy board's (display_board/strings.py) and
// the kiosk's catalogues (kiosk/locale): 번호 / 창구 (ko), 番号 / 窓口 (ja), номер / окно (ru).
export const LINES = {
  go_window: { en: "Window {n}", ko: "{n}번 창구로 오세요", ja: "{n}番窓口へどうぞ", ru: "Пройдите к окну {n}" },
  window: { en: "Window {n}", ko: "{n}번 창구", ja: "{n}番窓口", ru: "Окно {n}" },
  window_word: { en: "Window {n}", ko: "창구", ja: "窓口", ru: "Окно" },
  waiting_n: { en: "{n} waiting", ko: "{n}명 대기", ja: "{n}人待ち", ru: "Ожидают: {n}" },
  about_min: { en: "~{m} min", ko: "약 {m}분", ja: "約{m}分", ru: "≈{m} мин" },
  nobody: { en: "No one waiting", ko: "대기 없음", ja: "待ちなし", ru: "Очереди нет" },
  no_wait: { en: "No wait", ko: "바로 접수", ja: "すぐ受付", ru: "Без ожидания" },
  idle: { en: "Please wait to be called", ko: "호출을 기다려 주세요", ja: "呼び出しをお待ちください", ru: "Ожидайте вызова" },
  paused: { en: "Service paused", ko: "업무 일시 중지", ja: "受付一時停止", ru: "Приём приостановлен" },
  closed: { en: "Closed", ko: "운영 안 함", ja: "受付休止", ru: "Закрыто" },
  waiting_head: { en: "Waiting", ko: "대기 인원", ja: "待ち人数", ru: "Ожидают" },
  notice: { en: "Notice", ko: "안내", ja: "お知らせ", ru: "Объявление" },
  serving: { en: "Now serving", ko: "처리 중", ja: "手続き中", ru: "Обслуживается" },
  come: { en: "Please come to this window", ko: "이 창구로 오세요", ja: "この窓口へどうぞ", ru: "Подойдите к этому окну" },
  wait: { en: "Please wait", ko: "잠시 기다려 주세요", ja: "お待ちください", ru: "Пожалуйста, подождите" },
  lost: { en: "Connection lost", ko: "연결 끊김", ja: "接続が切れました", ru: "Нет связи" },
};

/** The second line `key` in `lang` (English when the language lacks it), filled with `vals`. */
export function line(key, lang, vals = {}) {
  const tpl = LINES[key][lang] || LINES[key].en;
  return tpl.replace(/\{(\w+)\}/g, (_, k) => String(vals[k] ?? ""));
}

/** The languages the second line goes round: the hall's, without Chinese (English alone by default). */
export function secondLanguages(hall) {
  const langs = ((hall && hall.languages) || ["zh", "en"]).filter((x) => x !== "zh" && LINES.window[x]);
  return langs.length ? langs : ["en"];
}
