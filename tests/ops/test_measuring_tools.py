"""The measuring tools run: `tools.pipeline_profile` broke once when the bench's message
header gained an argument, and nothing ran it until someone needed its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_profile_runs_the_bench_message_through_every_stage(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-m", "tools.pipeline_profile", "--kinds", "2k", "-n", "3",
         "--warmup", "1", "--rounds", "1", "--key", str(tmp_path / "dkim.pem")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "replies: 2 KB plain: 250 2.0.0 x3" in out.stdout
    for stage in ("parse", "redact", "encode", "stages in all"):
        assert f"\n  {stage} " in out.stdout or f"\n{stage} " in out.stdout, out.stdout
