"""Run the evaluator bridge of one window: ``python -m peripherals.evaluator --server URL --hall t1 --window 1
--token TOKEN --device serial:///dev/ttyUSB0`` (``--device sim://`` for a simulated one)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from .bridge import EvaluatorBridge
from .driver import open_evaluator


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, open the evaluator (loudly failing if it cannot be opened) and run the bridge."""
    ap = argparse.ArgumentParser(prog="python -m peripherals.evaluator", description=__doc__)
    ap.add_argument("--server", required=True, help="the queue server, e.g. http://10.0.0.2:8000")
    ap.add_argument("--hall", required=True)
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--token", default=os.environ.get("HALL_DEVICE_TOKEN"), help="device token (or HALL_DEVICE_TOKEN)")
    ap.add_argument("--device", default="serial:///dev/ttyUSB0?baudrate=9600", help="evaluator URL")
    ap.add_argument("--ask-s", type=float, default=60.0)
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("a device token is required (--token or HALL_DEVICE_TOKEN)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    evaluator = open_evaluator(args.device)
    bridge = EvaluatorBridge(
        server=args.server, hall=args.hall, window=args.window, token=args.token, evaluator=evaluator, ask_s=args.ask_s
    )
    try:
        asyncio.run(bridge.run())
    except KeyboardInterrupt:
        pass
    finally:
        evaluator.close()


if __name__ == "__main__":
    main()
