"""The measuring tools run: `tools.pipeline_profile` broke once when the bench's message
header gained an argument, and nothing ran it until someone needed its figures."""

from __future__ import annotations

import asyncio
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


def test_the_policy_harness_judges_more_than_a_hundred_refused_messages(tmp_path: Path):
    # A blind set's contact cards are refused one after another: past the relay's limit of
    # refused messages per network the harness got 450s, and counted them as caught.
    from tools.policy_report import CaseSet, run_cases
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Ana Lima\nTEL:+55 11 91234 5678\nEND:VCARD\n"
    cases = [{"id": f"v{i}", "category": "calendar-card", "code": "contact.calendar",
              "lang": "pt", "where": "attachment", "direction": "buyer_to_seller",
              "text": "Segue o meu cartão.", "secret": ["+55 11 91234 5678"],
              "attachment": {"kind": "vcf", "filename": f"ana{i}.vcf", "fields": {"raw": card}}}
             for i in range(105)]
    report = asyncio.run(run_cases(tmp_path, CaseSet("cards", cases, [])))
    assert report.contacts == 105 and not report.leaked
    assert report.refused_contacts == [f"v{i}: ['attachment.vcard']" for i in range(105)]
