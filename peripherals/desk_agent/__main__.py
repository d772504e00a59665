"""Run the general desk's device agent: ``python -m peripherals.desk_agent --server URL --token TOKEN
--id-reader URL --printer URL`` (device URLs as in `[[devices]]`; `sim://` for simulated ones). The token is a
`[[devices]]` entry's with ``role = "desk"``; its name is the desk the agent serves."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from ..errors import DeviceUnavailable
from ..idcard import open_id_reader
from ..printer import open_printer
from .agent import AgentRefused, DeskAgent


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, open the devices (loudly failing if one cannot be opened) and run the agent."""
    ap = argparse.ArgumentParser(prog="python -m peripherals.desk_agent", description=__doc__)
    ap.add_argument("--server", required=True, help="the queue server, e.g. http://10.0.0.2:8000")
    ap.add_argument("--token", default=os.environ.get("HALL_DEVICE_TOKEN"), help="device token (or HALL_DEVICE_TOKEN)")
    ap.add_argument("--id-reader", default=None, help="ID-card reader URL, e.g. sam+serial:///dev/ttyUSB1, pcsc://")
    ap.add_argument("--printer", default=None, help="ticket printer URL, e.g. escpos+serial:///dev/ttyUSB0")
    ap.add_argument("--read-timeout", type=float, default=10.0, help="seconds a 读卡 waits for a card")
    ap.add_argument("--report-s", type=float, default=60.0, help="seconds between health reports")
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("a device token is required (--token or HALL_DEVICE_TOKEN)")
    if not args.id_reader and not args.printer:
        ap.error("give --id-reader, --printer or both")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    reader = printer = None
    try:
        reader = open_id_reader(args.id_reader) if args.id_reader else None
        printer = open_printer(args.printer) if args.printer else None
    except DeviceUnavailable as exc:
        print(f"desk agent: {exc}", file=sys.stderr)
        if reader is not None:
            reader.close()
        return 2
    agent = DeskAgent(
        server=args.server,
        token=args.token,
        reader=reader,
        printer=printer,
        read_timeout=args.read_timeout,
        report_s=args.report_s,
    )

    async def serve() -> None:
        task = asyncio.create_task(agent.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(serve())
    except AgentRefused as exc:
        print(f"desk agent: {exc}", file=sys.stderr)
        return 3
    finally:
        for device in (reader, printer):
            if device is not None:
                device.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
