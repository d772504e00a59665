"""Every citizen-facing string of the kiosk's complaint tile, Chinese and English (the kiosk catalogue format)."""

from __future__ import annotations

from typing import Final

from kiosk.strings import Lang

CATALOGUE: dict[str, tuple[str, str]] = {
    "fb_tile": ("投诉建议", "Complaints"),
    "fb_tile_hint": ("吐槽找茬 · 投诉受理，可匿名", "Tell us what went wrong, anonymously if you like"),
    "fb_category_title": ("请选择投诉或建议的类别", "What is it about?"),
    "fb_loading": ("正在读取类别…", "Loading…"),
    "fb_reasons_title": (
        "请选择情况（可多选），也可补充说明",
        "Tap what happened (any number), add a note if you like",
    ),
    "fb_note_hint": ("补充说明（可选，可输入文字、数字或窗口号）", "Note (optional): text, numbers, window number"),
    "fb_reasons_missing": (
        "请至少选择一项情况，或写下补充说明（至少5个字）",
        "Tap at least one line, or write a note of 5 characters or more",
    ),
    "fb_next": ("下一步", "Next"),
    "fb_contact_title": ("是否留下手机号码？", "Leave your mobile number?"),
    "fb_contact_hint": (
        "留下号码，处理结果会以短信告知；匿名提交不留任何个人信息",
        "With a number the answer comes by text message; anonymous keeps nothing about you",
    ),
    "fb_anonymous": ("匿名提交", "Stay anonymous"),
    "fb_with_phone": ("留下手机号码", "Leave my number"),
    "fb_phone_title": ("请输入手机号码", "Enter your mobile number"),
    "fb_review_title": ("请确认", "Please check"),
    "fb_review_category": ("类别：{name}", "About: {name}"),
    "fb_review_contact_anon": ("匿名提交", "Anonymous"),
    "fb_review_contact_phone": ("答复短信：{phone}", "Answer by text to: {phone}"),
    "fb_submit": ("提交", "Submit"),
    "fb_sending": ("正在提交，请稍候…", "Sending, please wait…"),
    "fb_retrying": ("网络不畅，正在重试…", "The connection is slow, retrying…"),
    "fb_done_title": ("已受理，感谢监督", "Received: thank you"),
    "fb_done_code": ("编号 {code}  查询码 {proof}", "Reference {code}, query code {proof}"),
    "fb_done_hint": (
        "请记下编号和查询码，可扫描凭条二维码在网上查询处理进度；{days}个工作日内答复",
        "Keep the reference and the query code to follow it on the web; you get an answer within {days} working days",
    ),
    "fb_printed": ("凭条已打印，请取走", "Your slip is printed: please take it"),
    "fb_not_printed": ("未能打印，请拍下屏幕上的查询码", "Could not print: photograph the reference on screen"),
    "fb_gave_up": (
        "网络不畅，未能提交，请稍后再试或到总服务台反映",
        "The connection is down: nothing was sent. Try later or tell the general desk",
    ),
}

# Preset lines per server category (queue_server.feedback.catalogue.COMPLAINT_CATEGORIES): a kiosk has no
# Chinese input method, so the citizen taps what happened; the Chinese line is what staff read.
PHRASES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "service": (
        ("工作人员态度生硬", "The staff were rude"),
        ("工作人员离岗或玩手机", "Staff away from the window or on their phone"),
        ("解答不清楚", "Questions were not answered clearly"),
        ("推诿扯皮", "I was sent from one window to another"),
    ),
    "efficiency": (
        ("等候时间太长", "The wait was too long"),
        ("办理速度慢", "Service was slow"),
        ("窗口开放太少", "Too few windows open"),
        ("超过承诺时限未办结", "Not finished within the promised time"),
    ),
    "process": (
        ("材料要求不一致", "Different windows asked for different documents"),
        ("一次告知不到位", "I was not told everything at once"),
        ("要求重复提交材料", "Asked to hand in the same documents again"),
        ("流程复杂", "The procedure is too complicated"),
    ),
    "facility": (
        ("自助机故障", "A self-service kiosk is broken"),
        ("座位不够", "Not enough seats"),
        ("卫生间不干净", "The toilets are not clean"),
        ("指引标识不清", "Signs are unclear"),
    ),
    "integrity": (
        ("索要好处", "Asked for a favour or money"),
        ("违规收费", "Charged a fee that should not be charged"),
        ("吃拿卡要", "Held things up for personal gain"),
    ),
    "suggestion": (
        ("建议延长办理时间", "Open longer hours"),
        ("建议增加网上办理", "Offer more online services"),
        ("建议增加休息设施", "More seats and rest areas"),
    ),
    "other": (("其他问题", "Something else"),),
}


def t(key: str, lang: Lang, **kw: object) -> str:
    """The string `key` in `lang`, formatted with `kw`."""
    zh, en = CATALOGUE[key]
    return (zh if lang == "zh" else en).format(**kw)
