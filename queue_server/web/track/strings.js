// The tracking page's sentences: Chinese first (always shown), then the citizen's second language — English,
// 한국어, 日本語 or Русский — for each ({name} is filled in). The terms follow the kiosk's catalogues
// (kiosk/locale/*/LC_MESSAGES/kiosk.po, whose headers say how they were checked): 번호표 / 창구 (ko),
// 番号札 / 窓口 (ja), талон / окно (ru).
export const SECOND = ["en", "ko", "ja", "ru"];
export const NATIVE = { en: "English", ko: "한국어", ja: "日本語", ru: "Русский" };

export const T = {
  title: { zh: "排队进度", en: "Your place in the queue", ko: "대기 현황", ja: "順番の状況", ru: "Ваша очередь" },
  ahead: { zh: "前面还有 {n} 人", en: "{n} people ahead of you", ko: "앞에 {n}명 대기 중", ja: "あと {n} 人でお呼びします", ru: "Перед вами: {n}" },
  ahead_one: { zh: "前面还有 1 人", en: "1 person ahead of you", ko: "앞에 1명 대기 중", ja: "あと 1 人でお呼びします", ru: "Перед вами: 1" },
  wait: { zh: "预计等候约 {m} 分钟", en: "About {m} min", ko: "약 {m}분 대기 예상", ja: "待ち時間 約 {m} 分", ru: "Ожидание около {m} мин" },
  next: { zh: "下一位就是您", en: "You are next", ko: "다음 차례입니다", ja: "次はあなたの番です", ru: "Вы следующий" },
  listen: { zh: "请留意叫号，到号后请及时前往窗口", en: "Please watch for your call", ko: "호출을 확인해 주세요", ja: "呼び出しにご注意ください", ru: "Следите за вызовом" },
  called: { zh: "请到 {w} 号窗口", en: "Please go to window {w}", ko: "{w}번 창구로 오세요", ja: "{w}番窓口へお越しください", ru: "Пройдите к окну {w}" },
  called_now: { zh: "正在呼叫您的号码", en: "Your number is being called", ko: "고객님의 번호를 호출하고 있습니다", ja: "あなたの番号をお呼びしています", ru: "Вызывают ваш номер" },
  recalled: { zh: "再次呼叫（第 {k} 次），请尽快前往", en: "Called again ({k}) — please go now", ko: "다시 호출({k}회) — 지금 바로 오세요", ja: "再呼び出し（{k} 回目）— すぐにお越しください", ru: "Повторный вызов ({k}) — подойдите сейчас" },
  serving: { zh: "正在 {w} 号窗口办理", en: "Being served at window {w}", ko: "{w}번 창구에서 처리 중", ja: "{w}番窓口で手続き中", ru: "Вас обслуживают в окне {w}" },
  held: { zh: "暂停办理，请在 {w} 号窗口附近等候", en: "On hold — please stay near window {w}", ko: "처리 보류 — {w}번 창구 근처에서 기다려 주세요", ja: "手続き保留中 — {w}番窓口の近くでお待ちください", ru: "Приостановлено — ожидайте у окна {w}" },
  done: { zh: "办理完成", en: "Service completed", ko: "처리 완료", ja: "手続き完了", ru: "Обслуживание завершено" },
  rate_ask: { zh: "请对本次服务进行评价", en: "Please rate the service", ko: "이번 서비스를 평가해 주세요", ja: "今回のサービスを評価してください", ru: "Пожалуйста, оцените обслуживание" },
  rated: { zh: "已评价，感谢您的反馈", en: "Rated — thank you for your feedback", ko: "평가 완료 — 의견 감사합니다", ja: "評価済み — ご意見ありがとうございます", ru: "Оценка принята — спасибо за отзыв" },
  no_show: { zh: "已过号", en: "Your number was missed", ko: "호출 시간이 지났습니다", ja: "呼び出し時にいらっしゃいませんでした", ru: "Ваш номер пропущен" },
  cancelled: { zh: "已取消", en: "Cancelled", ko: "취소됨", ja: "キャンセル済み", ru: "Отменено" },
  cancelled_note: { zh: "如仍需办理，请重新取号", en: "Take a new number if you still need the service", ko: "업무가 필요하면 번호표를 다시 뽑으세요", ja: "手続きが必要な場合は番号札を取り直してください", ru: "Если услуга ещё нужна, возьмите новый талон" },
  expired: { zh: "已失效", en: "No longer valid", ko: "효력 없음", ja: "無効になりました", ru: "Талон недействителен" },
  expired_note: { zh: "当日服务已结束，请另行取号", en: "Today's service has ended", ko: "오늘 업무가 끝났습니다", ja: "本日の受付は終了しました", ru: "Приём на сегодня окончен" },
  transferred_queue: { zh: "已为您转至「{q}」", en: "Transferred to {qen}", ko: "「{qen}」(으)로 이관되었습니다", ja: "「{qen}」へ移りました", ru: "Переведено: «{qen}»" },
  transferred_window: { zh: "已为您转至 {w} 号窗口", en: "Transferred to window {w}", ko: "{w}번 창구로 이관되었습니다", ja: "{w}番窓口へ移りました", ru: "Переведено к окну {w}" },
  missing: { zh: "没有这张票", en: "No ticket for this link", ko: "이 링크의 번호표가 없습니다", ja: "このリンクの番号札はありません", ru: "Талон по этой ссылке не найден" },
  missing_note: { zh: "请核对二维码，或重新取号", en: "Check the QR code, or take a new number", ko: "QR 코드를 확인하거나 번호표를 다시 뽑으세요", ja: "QRコードをご確認いただくか、番号札を取り直してください", ru: "Проверьте QR-код или возьмите новый талон" },
  updated: { zh: "更新于 {t}", en: "Updated {t}", ko: "{t} 갱신", ja: "{t} 更新", ru: "Обновлено в {t}" },
  cancel_failed: { zh: "取消失败：", en: "Could not cancel: ", ko: "취소하지 못했습니다: ", ja: "キャンセルできませんでした: ", ru: "Не удалось отменить: " },
  // the page's fixed labels (elements with data-t in index.html)
  your_number: { zh: "您的号码", en: "Your number", ko: "내 번호", ja: "あなたの番号", ru: "Ваш номер" },
  rule_label: { zh: "过号规则", en: "If your number was missed", ko: "호출을 놓쳤을 때", ja: "呼び出しに間に合わなかったとき", ru: "Если вы пропустили вызов" },
  rate_label: { zh: "服务评价", en: "Rate the service", ko: "서비스 평가", ja: "サービスの評価", ru: "Оценка обслуживания" },
  comment: { zh: "留言（可选）", en: "Comment (optional)", ko: "의견(선택)", ja: "コメント（任意）", ru: "Комментарий (необязательно)" },
  submit: { zh: "提交评价", en: "Submit", ko: "평가 보내기", ja: "送信", ru: "Отправить" },
  notice: { zh: "大厅通知", en: "Notice", ko: "안내", ja: "お知らせ", ru: "Объявление" },
  cancel: { zh: "不需要了，取消排队", en: "Cancel my number", ko: "대기 취소", ja: "順番待ちを取り消す", ru: "Отменить мой талон" },
  confirm: { zh: "确定取消吗？取消后需重新取号。", en: "Cancel this number? You would need to take a new one.", ko: "이 번호를 취소할까요? 취소하면 번호표를 다시 뽑아야 합니다.", ja: "この番号を取り消しますか？取り消すと番号札を取り直す必要があります。", ru: "Отменить этот номер? Потом придётся взять новый талон." },
  yes_cancel: { zh: "确定取消", en: "Yes, cancel", ko: "네, 취소합니다", ja: "はい、取り消します", ru: "Да, отменить" },
  keep: { zh: "继续排队", en: "Keep my place", ko: "계속 기다리기", ja: "このまま待つ", ru: "Остаться в очереди" },
  hint: { zh: "请保持本页打开，叫到您时手机会振动提示。", en: "Keep this page open: your phone buzzes when called.", ko: "이 페이지를 열어 두세요. 호출되면 휴대폰이 진동합니다.", ja: "このページを開いたままにしてください。呼び出し時に携帯電話が振動します。", ru: "Не закрывайте страницу: при вызове телефон завибрирует." },
  offline: { zh: "连接中断，正在重连…", en: "Offline, reconnecting…", ko: "연결이 끊겨 다시 연결하는 중…", ja: "接続が切れました。再接続しています…", ru: "Нет связи, переподключение…" },
  language: { zh: "语言", en: "Language", ko: "언어", ja: "言語", ru: "Язык" },
  // WeChat notices (the hall's official account): bind here, and stop them for this phone's later numbers too
  wechat_get: { zh: "用微信接收通知", en: "Get notices in WeChat", ko: "위챗으로 알림 받기", ja: "WeChatで通知を受け取る", ru: "Получать уведомления в WeChat" },
  wechat_on: { zh: "已通过微信接收通知（本手机号以后的取号也会通过微信通知）", en: "Notices come in WeChat (also for this phone's later numbers)", ko: "위챗으로 알림을 받고 있습니다(이 휴대폰 번호로 나중에 뽑는 번호표도 포함)", ja: "WeChatで通知を受け取っています（この電話番号で今後取る番号札も含む）", ru: "Уведомления приходят в WeChat (и для следующих талонов с этим номером телефона)" },
  wechat_off: { zh: "不再接收微信通知", en: "Stop WeChat notices", ko: "위챗 알림 끄기", ja: "WeChatの通知を停止する", ru: "Отключить уведомления в WeChat" },
  wechat_stopped: { zh: "已停止微信通知", en: "WeChat notices stopped", ko: "위챗 알림을 껐습니다", ja: "WeChatの通知を停止しました", ru: "Уведомления в WeChat отключены" },
};

let second = "en";

/** The second line's language: one of SECOND (English when not). */
export function setSecond(lang) {
  second = SECOND.includes(lang) ? lang : "en";
  return second;
}

export const secondLang = () => second;

/** The sentence `key` in Chinese (`zh`) and in the second language (`en`, the second line), filled with `vals`. */
export function say(key, vals = {}) {
  const fill = (tpl) => tpl.replace(/\{(\w+)\}/g, (_, k) => String(vals[k] ?? ""));
  return { zh: fill(T[key].zh), en: fill(T[key][second] || T[key].en) };
}
