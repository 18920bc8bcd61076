"""SMTP spoken by hand, byte for byte, where a client library would correct what is sent."""

from __future__ import annotations

import asyncio


async def talk(port: int, script: bytes) -> bytes:
    """After the greeting, write `script` at once (commands, data, whatever bytes) and read
    every reply until the relay closes the connection or says 221."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(script)
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
