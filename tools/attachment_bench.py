"""How long judging one attachment takes, for the kinds the Office package check reads into.

Prints the median time of judge() (relay.rules.attachments) per file and the peak memory it
allocated; asserts nothing. The files are the test fixtures (tests/samples.py) and a few
bigger ones made here.

    python -m tools.attachment_bench
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import samples

from relay.rules.attachments import judge

ALLOWED = ("pdf", "png", "jpeg", "text", "office")


def big_sheet(rows: int) -> bytes:
    """A workbook whose one sheet holds `rows` rows of random numbers (compresses ~4:1)."""
    rng = random.Random(7)
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{rng.random():.12f}</v></c>'
                    f'<c r="B{r}"><v>{rng.randint(0, 10**9)}</v></c></row>'
                    for r in range(1, rows + 1))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             f'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData>'
             "</worksheet>")
    return samples.repack(samples.xlsx(), ("xl/worksheets/sheet1.xml", sheet))


def many_parts(count: int) -> bytes:
    return samples.docx_with(*[(f"word/media/image{n}.png", samples.png()) for n in range(count)])


def measure(name: str, make: Callable[[], bytes], runs: int) -> None:
    data = make()
    times = []
    verdict = None
    for _ in range(runs):
        start = time.perf_counter()
        verdict = judge(data, [name], ALLOWED)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    judge(data, [name], ALLOWED)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert verdict is not None
    outcome = verdict.kind or verdict.code
    print(f"{name:<28} {len(data):>12,} B  {statistics.median(times) * 1000:>9.2f} ms"
          f"  peak {peak / 1e6:>7.2f} MB  {outcome}")


def main() -> None:
    print(f"{'file':<28} {'size':>14}  {'median':>12}  {'allocated':>12}  verdict")
    measure("invoice.docx", samples.docx, 200)
    measure("orders.xlsx", samples.xlsx, 200)
    measure("slides.pptx", samples.pptx, 200)
    measure("chart-inside.docx", lambda: samples.docx_with(
        ("word/embeddings/Microsoft_Excel_Worksheet.xlsx", samples.xlsx())), 200)
    measure("packaged.docx", lambda: samples.docx_with(
        ("word/embeddings/oleObject1.bin", samples.ole_package("notes.txt", samples.text()))),
        200)
    measure("big-sheet.xlsx", lambda: big_sheet(100_000), 20)
    measure("2000-parts.docx", lambda: many_parts(2000), 10)
    measure("bomb-2GiB.docx", lambda: samples.docx_bomb(128, 16 << 20), 20)
    measure("legacy.doc", samples.ole_doc, 200)


if __name__ == "__main__":
    main()
