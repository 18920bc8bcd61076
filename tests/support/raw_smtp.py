"""SMTP spoken by hand, byte for byte, where a client library would correct what is sent."""

from __future__ import annotations

import asyncio


async def talk(port: int, script: bytes | list[bytes]) -> bytes:
    """After the greeting, write `script` (commands, data, whatever bytes) and read every
    reply until the relay closes the connection or says 221. A list is sent in pieces, a
    moment apart, so that the relay reads them apart."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for n, piece in enumerate([script] if isinstance(script, bytes) else script):
        if n:
            await asyncio.sleep(0.05)
        writer.write(piece)
        await writer.drain()
    replies = b""
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), 5)
            if not line:
                break
            replies += line
            if line.startswith(b"221"):
                break
    finally:
        writer.close()
    return replies
