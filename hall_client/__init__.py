"""Client-side code the hall's own programs share (kiosk, Kivy board, evaluator bridge), owned by none of them.

`screen`: Kivy window set-up and the CJK font; `follower`: the one event-stream follower in Python.
"""
