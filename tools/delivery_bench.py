"""CPU time per message of the relay's delivery client alone (relay.delivery.smtp_client,
SMTPTransport.send), against tools.bench_sink's sink in a process of its own.

    python -m tools.delivery_bench [-n 3000] [--concurrency 10] [--size 2000] [--rounds 3]

The messages go out `--concurrency` at a time over kept connections (opened before the
measured rounds, as in a relay under load); each round prints this process's CPU time per
message. The sink offers PIPELINING, as Postfix does.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
import time

from relay.config import DeliverySettings
from relay.delivery.smtp_client import SMTPTransport


def message(size: int) -> bytes:
    head = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: bench\r\n\r\n"
    line = b"x" * 70 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


async def run(args: argparse.Namespace) -> None:
    sink = subprocess.Popen([sys.executable, "-m", "tools.bench_sink", "sink"],
                            stdout=subprocess.PIPE)
    assert sink.stdout is not None
    out = sink.stdout
    port = int(out.readline().split()[1])
    # The sink reports each message on its stdout: read it, or it blocks when the pipe fills.
    threading.Thread(target=lambda: all(iter(lambda: out.read(65536), b"")), daemon=True).start()
    try:
        transport = SMTPTransport(DeliverySettings(mode="smtp", smtp_host="127.0.0.1",
                                                   smtp_port=port, smtp_starttls="never"))
        data = message(args.size)
        slots = asyncio.Semaphore(args.concurrency)

        async def one(i: int) -> None:
            async with slots:
                result = await transport.send(f"bounces+{i}@relay.example",
                                              f"user{i}@example.net", data, False)
            if result.status != "delivered":
                raise SystemExit(f"not delivered: {result}")

        await asyncio.gather(*(one(i) for i in range(args.concurrency * 20)))  # warm up
        for _ in range(args.rounds):
            start = time.process_time()
            await asyncio.gather(*(one(i) for i in range(args.n)))
            cpu = time.process_time() - start
            print(f"{cpu / args.n * 1e6:.1f} us of CPU per message ({args.n} messages,"
                  f" {len(data)} bytes, {args.concurrency} at a time)")
        await transport.close()
    finally:
        sink.terminate()
        sink.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.delivery_bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="messages per round")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--size", type=int, default=2000, help="message bytes")
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
