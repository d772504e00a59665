"""Evaluation devices (评价器): the four-key serial evaluator (EV1 protocol), a simulator, and the bridge.

    from peripherals.evaluator import open_evaluator
    ev = open_evaluator("serial:///dev/ttyUSB0?baudrate=9600")   # or "sim://"
    ev.prompt("A023"); press = ev.read_key(timeout=60)             # press.level: 5 非常满意 … 1 非常不满意

`bridge.EvaluatorBridge` (``python -m peripherals.evaluator``) connects one window's evaluator to the
server's event stream and posts the answers. The byte protocol is documented in `protocol`.
"""

from __future__ import annotations

from .driver import Evaluator, SerialEvaluator, SimEvaluator, open_evaluator
from .protocol import Decoder, Frame, KeyPress
from .simulator import PtyEvaluatorSimulator

__all__ = [
    "Decoder",
    "Evaluator",
    "Frame",
    "KeyPress",
    "PtyEvaluatorSimulator",
    "SerialEvaluator",
    "SimEvaluator",
    "open_evaluator",
]
