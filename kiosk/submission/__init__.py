"""Self-submission (自助申报), case query (办件查询) and result pickup (取件) at the kiosk.

`flow` and `query` are pure state machines; `outbox` keeps submissions on disk until the server has them;
`client` talks to the cases API; `screens` (Kivy) draws the flows.
"""
