"""Client-side code the hall's own programs share (kiosk, Kivy board, evaluator bridge), owned by none of them.

`screen`: Kivy window set-up and the CJK font; `follower`: the one event-stream follower in Python; `catalogue`:
gettext domains read with Babel (the Kivy board's, and the web pages' that the server serves).
"""
