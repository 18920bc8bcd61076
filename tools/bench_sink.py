"""The two throwaway SMTP servers of `make bench`, each run as a process of its own.

    python -m tools.bench_sink sink [--port P]       a minimal sink: 250 to everything
    python -m tools.bench_sink aiosmtpd [--port P]   aiosmtpd, a handler that answers 250 and
                                                     discards (the do-nothing baseline)

Both print "listening PORT" as their first line on stdout (port 0: the kernel picks one) and
run until SIGTERM. The sink then prints, like Postfix's `smtp-sink -c`, one record ending in
CR each time a message is complete: "mesg=N t=T", N messages so far and T the sink's
time.monotonic() (CLOCK_MONOTONIC, the same clock in every process of the machine), so
tools.bench knows when the last message arrived. It does not parse what it receives: it
reads commands by line and the data up to CRLF.CRLF, and answers as it goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time

EHLO = (b"250-bench-sink\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-8BITMIME\r\n"
        b"250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n")
LIMIT = 64 << 20  # the largest message it takes in one piece


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench-sink ESMTP\r\n")
        try:
            while True:
                line = await reader.readuntil(b"\r\n")
                verb = line[:4].upper()
                if verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    first = await reader.readuntil(b"\r\n")
                    if first != b".\r\n":
                        await reader.readuntil(b"\r\n.\r\n")
                    self.count += 1
                    sys.stdout.write(f"mesg={self.count} t={time.monotonic():.6f}\r")
                    sys.stdout.flush()
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                elif verb == b"EHLO":
                    writer.write(EHLO)
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    break
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    writer.write(b"250 2.0.0 Ok\r\n")
                else:
                    writer.write(b"502 5.5.2 Error: command not recognized\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


class Discard:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 2.0.0 Ok: discarded"


async def serve(mode: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    if mode == "sink":
        sink = Sink()
        server = await asyncio.start_server(sink.session, "127.0.0.1", port, limit=LIMIT,
                                            backlog=1024)
    else:
        from aiosmtpd.smtp import SMTP

        server = await loop.create_server(
            lambda: SMTP(Discard(), hostname="bench-aiosmtpd", decode_data=False,
                         data_size_limit=LIMIT),
            "127.0.0.1", port, backlog=1024)
    stopped: list[str] = []
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: (stopped.append(s.name), stop.set()))
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    print(f"bench_sink {mode}: stopped by {stopped[0]}", file=sys.stderr, flush=True)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("sink", "aiosmtpd"))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.mode, args.port))


if __name__ == "__main__":
    main()
