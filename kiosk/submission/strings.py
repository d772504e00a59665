"""Every citizen-facing string of self-submission, case query and pickup, in Chinese and English."""

from __future__ import annotations

from kiosk.strings import Lang

CATALOGUE: dict[str, tuple[str, str]] = {
    "submit_tile": ("自助申报", "Self-submission"),
    "submit_tile_hint": ("选择事项，扫描材料，在线提交", "Choose an item, scan your papers, submit"),
    "query_tile": ("办件查询", "Case query"),
    "query_tile_hint": ("刷身份证或输入办件编号", "With your ID card or the case number"),
    "pickup_tile": ("取件", "Result pickup"),
    "pickup_tile_hint": ("输入 8 位取件码", "Type your 8-digit pickup code"),
    "choose_domain": ("请选择办事领域", "Choose an area"),
    "search": ("搜索", "Search"),
    "search_hint": ("输入事项名称、编码或关键词", "Type an item's name, code or a keyword"),
    "no_items": ("没有找到相关事项，请换个词试试", "Nothing found: try another word"),
    "loading": ("正在读取…", "Loading…"),
    "items_in": ("{domain} · {n} 项", "{domain} · {n} items"),
    "choose_situation": ("请选择您的办事情形", "Which situation is yours?"),
    "template_title": ("办事指南（零基础模板）", "What you need (zero-basis template)"),
    "time_limit": ("承诺时限：{days} 个工作日", "Time limit: {days} working days"),
    "time_limit_now": ("即办件：当场办结", "Done on the spot"),
    "fees": ("收费：{fees}", "Fees: {fees}"),
    "n_items": ("{n} 个事项", "{n} services"),
    "n_materials": ("需 {n} 份材料", "{n} documents needed"),
    "item_code": ("事项编码 {code}", "Code {code}"),
    "explain_shortfall": (
        "[可容缺]：缺这份材料也可以先受理，之后补交",
        "[May follow later]: your case is accepted without it; bring it later",
    ),
    "explain_commitment": (
        "[可告知承诺]：签一份承诺书即可代替这份证明",
        "[Commitment accepted]: a signed commitment replaces this proof",
    ),
    "tag_required": ("必交", "Required"),
    "tag_optional": ("选交", "Optional"),
    "tag_shortfall": ("可容缺", "May follow later"),
    "tag_commitment": ("可告知承诺", "Commitment accepted"),
    "sample": ("样表：{text}", "Sample: {text}"),
    "notes": ("说明：{text}", "Note: {text}"),
    "start": ("开始申报", "Start"),
    "card_title": ("请将身份证放在读卡区", "Place your ID card on the reader"),
    "card_hint": (
        "申请人信息将从身份证自动填入；没有身份证请到窗口办理",
        "Your name and ID number are filled in from the card; without a card please go to a counter",
    ),
    "card_failed": ("未能读取身份证，请重新放置", "The card could not be read: place it again"),
    "applicant": ("申请人：{name}　证件号：{id}", "Applicant: {name}   ID: {id}"),
    "phone_title": ("联系电话（可选）", "Mobile number (optional)"),
    "phone_hint": ("办结后短信通知您取件", "A text message tells you when the result is ready"),
    "phone_invalid": ("请输入 11 位手机号码", "Please enter an 11-digit mobile number"),
    "phone_skip": ("不填写", "Skip"),
    "ok": ("确定", "OK"),
    "capture_title": ("材料 {i}/{n}：{name}", "Material {i}/{n}: {name}"),
    "capture_hint": (
        "请将材料正面朝上放在扫描区，每页按一次“拍摄”",
        "Place the page face up under the camera and press Capture for each page",
    ),
    "capture": ("拍摄", "Capture"),
    "capturing": ("正在拍摄…", "Capturing…"),
    "pages": ("已拍 {n} 页", "{n} page(s)"),
    "remove_page": ("删除上一页", "Remove last page"),
    "bring_later": ("稍后补交", "Bring it later"),
    "later_marked": ("已选择稍后补交", "You will bring it later"),
    "undo_later": ("改为现在拍摄", "Scan it now instead"),
    "next": ("下一项", "Next"),
    "need_pages": ("这是必交材料，请至少拍摄一页", "This material is required: capture at least one page"),
    "nothing_on_platen": ("没有检测到材料，请放好后重试", "No page found: place it and try again"),
    "camera_fault": (
        "扫描设备故障，请到窗口办理，工作人员已收到提醒",
        "The scanner is not working: please go to a counter; staff have been told",
    ),
    "too_many_pages": ("最多可拍摄 {n} 页", "At most {n} pages in all"),
    "review_title": ("请核对申报信息", "Please check before submitting"),
    "review_item": ("事项：{name}", "Item: {name}"),
    "review_situation": ("情形：{name}", "Situation: {name}"),
    "review_phone": ("手机：{phone}", "Mobile: {phone}"),
    "review_material": ("{name}：{state}", "{name}: {state}"),
    "state_pages": ("{n} 页", "{n} page(s)"),
    "state_later": ("稍后补交", "to bring later"),
    "state_none": ("未提交", "none"),
    "submit": ("确认提交", "Submit"),
    "sending": ("正在提交，请稍候…", "Submitting, please wait…"),
    "result_title": ("申报成功", "Submitted"),
    "case_number": ("办件编号：{number}", "Case number: {number}"),
    "query_code": ("查询码：{code}", "Query code: {code}"),
    "result_hint": (
        "请取走回执，凭办件编号和查询码查询进度",
        "Take your receipt: the case number and query code let you follow your case",
    ),
    "receipt_printed": ("回执已打印", "Receipt printed"),
    "receipt_failed": (
        "回执未能打印，请拍下屏幕上的编号和查询码",
        "The receipt could not be printed: photograph the number and query code on screen",
    ),
    "queued_title": ("已保存，网络恢复后自动提交", "Saved; it will be sent automatically when the network is back"),
    "queued_ref": ("本机登记号：{ref}", "Kiosk reference: {ref}"),
    "queued_hint": (
        "您的申报和扫描件已安全保存在本机，不必重新办理；提交后可刷身份证查询办件编号",
        "Your application and scans are kept safely here; no need to apply again. "
        "Once sent, query your case here with your ID card",
    ),
    "refused_title": ("未能提交", "Not submitted"),
    "too_large": (
        "扫描的材料太大，无法一次提交：请删去部分页面后重试，或到窗口办理",
        "The scanned papers are too large to send at once: remove some pages and try again, or go to a counter",
    ),
    "retry_review": ("返回修改", "Go back and change"),
    "query_title": ("办件查询", "Case query"),
    "query_how": (
        "请将身份证放在读卡区，或输入办件编号和查询码",
        "Place your ID card on the reader, or type the case number and query code",
    ),
    "query_number": ("办件编号", "Case number"),
    "query_proof": ("查询码或身份证号后 4 位", "Query code or last 4 of your ID number"),
    "query_go": ("查询", "Search"),
    "query_none": ("没有查到办件，请核对后重试", "No case found: please check and try again"),
    "query_list": ("您在本大厅的办件", "Your cases in this hall"),
    "query_deadline": ("办理期限：{date}", "Due: {date}"),
    "query_pickup_ticket": ("领取结果（取号）", "Collect the result (take a number)"),
    "pickup_ticket_taken": ("请凭号 {number} 到出件窗口领取", "Collect it at the output counter with number {number}"),
    "pickup_title": ("自助取件", "Self-service pickup"),
    "pickup_how": ("请输入短信中的 8 位取件码", "Type the 8-digit pickup code from your text message"),
    "pickup_go": ("取件", "Collect"),
    "pickup_incomplete": ("请输入完整的 8 位取件码", "Please type all 8 digits"),
    "pickup_done": ("取件成功：办件 {number}，请从取件口取走材料", "Collected: case {number}. Take it from the slot"),
    "pickup_wrong": ("取件码不正确或已使用", "The code is wrong or already used"),
    "unreachable": ("网络不畅，请稍后再试", "The connection is down: please try again later"),
    "light_red": ("临近期限", "due soon"),
    "light_yellow": ("注意期限", "watch the date"),
    "light_green": ("正常", "on time"),
    "backspace": ("删除", "Delete"),
    "countdown": ("{s} 秒后返回首页", "Back to home in {s} s"),
    "simulate_card": ("模拟刷卡（演示）", "Demo ID card"),
}


def t(key: str, lang: Lang, **kw: object) -> str:
    """The string `key` in `lang`, formatted with `kw`."""
    zh, en = CATALOGUE[key]
    return (zh if lang == "zh" else en).format(**kw)


def both(key: str, sep: str = " / ", **kw: object) -> str:
    """The string in both languages, Chinese first."""
    return t(key, "zh", **kw) + sep + t(key, "en", **kw)
