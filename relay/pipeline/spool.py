"""Message bodies on their way in, and the budget of bytes in flight they share.

Sixty clients uploading 24 MB each would otherwise hold 1.4 GB in the relay's memory: a body
stays in memory up to SPOOL_AFTER bytes, then goes on in an unnamed file in the spool
directory beside the store (it leaves no file behind, whatever happens to the process), and
is read back only when its turn to be processed comes. Over every connection together at
most smtp.max_bytes_in_flight bytes are received or processed at once; past it DATA is a
temporary 452 4.3.1, so neither memory nor the spool's disk runs out.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from relay.pipeline.lanes import BIG

if TYPE_CHECKING:
    from relay.config import Config

# Bytes of a body kept in memory; past it, in a file. BIG: every body that will go to a
# worker process waits for its turn on disk, and sixty uploads hold 15 MB, not 60.
SPOOL_AFTER = BIG


def spool_dir(config: Config) -> Path:
    return config.store.path.parent / "spool"


class Budget:
    """Bytes of bodies in flight, over every connection (smtp.max_bytes_in_flight)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


class Body:
    """One DATA body: in memory up to SPOOL_AFTER bytes, then in a file in `directory`. Its
    bytes count against `budget` until it is closed; a write past the budget drops the body
    (the transaction is answered 452 at its end)."""

    def __init__(self, directory: Path | None, budget: Budget | None) -> None:
        # Closed by drop(), at the end of its transaction or of its connection.
        self.file: tempfile.SpooledTemporaryFile[bytes] | None
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_AFTER, dir=directory)  # noqa: SIM115
        self.budget = budget
        self.size = 0

    def write(self, data: bytes) -> bool:
        """False when the body is dropped (now, past the budget, or before)."""
        if self.file is None:
            return False
        if self.budget is not None and not self.budget.take(len(data)):
            self.drop()
            return False
        self.size += len(data)
        self.file.write(data)
        return True

    @property
    def spooled(self) -> bool:
        """Whether the body went to a file (SpooledTemporaryFile rolls over past max_size)."""
        return self.size > SPOOL_AFTER

    async def read(self) -> bytes:
        """The whole body; from a file, read in a thread (25 MB take a while to read)."""
        assert self.file is not None, "the body was dropped"
        file = self.file
        if not self.spooled:
            file.seek(0)
            return file.read()

        def whole() -> bytes:
            file.seek(0)
            return file.read()

        return await asyncio.to_thread(whole)

    def drop(self) -> None:
        """Close the file (an unnamed one is gone with it) and give its bytes back."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.budget is not None:
            self.budget.give_back(self.size)
        self.size = 0
