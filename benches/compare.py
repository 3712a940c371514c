#!/usr/bin/env python3
"""Forward throughput of hydrograd beside smash, measured in one run on the same machine.

Runs `benches/smash_forward.py` (smash 1.3, one thread) and `hydrograd bench` on the golden configs of
the Cance and France datasets (made by tests/reference/make_golden.py), then prints a table of ratios
and writes every figure as JSON.

  python benches/compare.py --hydrograd target/release/hydrograd --golden tests/golden [--json out.json]

Cases:
  cance          383 cells x 1440 h, one parameter set (smash: Model.forward_run)
  cance_mfr64    the same with 64 parameter sets (smash: multiple_forward_run; hydrograd: one batched call)
  france         906,044 cells x 32 h; hydrograd: a whole second `hydrograd run` (inputs cached, outputs
                 written) against smash's forward run alone
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def hydrograd_bench(exe: str, config: Path, threads: int | None, extra: list[str]) -> list[dict]:
    cmd = [exe, "bench", str(config), *extra]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hydrograd", default=str(HERE.parent / "target/release/hydrograd"))
    ap.add_argument("--golden", default=os.environ.get("HYDROGRAD_GOLDEN_DIR", str(HERE.parent / "tests/golden")))
    ap.add_argument("--json", help="also write all figures to this file")
    ap.add_argument("--skip-smash", action="store_true", help="only hydrograd (no ratios)")
    args = ap.parse_args()
    golden = Path(args.golden)
    cores = os.cpu_count() or 1

    smash = {}
    if not args.skip_smash:
        out = subprocess.run([sys.executable, str(HERE / "smash_forward.py")], check=True, capture_output=True, text=True)
        smash = json.loads(out.stdout)["cases"]

    ours: dict[str, dict] = {}
    for threads in (1, cores):
        tag = f"{threads}t"
        for r in hydrograd_bench(args.hydrograd, golden / "cance/config.toml", threads, ["--sets", "1,64", "--repeats", "10"]):
            ours[f"cance{'' if r['sets'] == 1 else '_mfr64'}/{tag}"] = r
        for r in hydrograd_bench(args.hydrograd, golden / "france/config.toml", threads, ["--sets", "1", "--repeats", "3", "--whole-run"]):
            ours[f"france{'_forward' if r['case'] == 'forward' else ''}/{tag}"] = r

    rows = [("cance", "cance", "cance"), ("cance_mfr64", "cance_mfr64", "cance_mfr64"),
            ("france (whole run)", "france", "france"), ("france (forward only)", "france", "france_forward")]
    print(f"{'case':<24}{'smash 1t [s]':>14}{'hydrograd 1t [s]':>18}{'ratio':>8}{f'hydrograd {cores}t [s]':>18}{'ratio':>8}")
    for label, s_key, o_key in rows:
        s = smash.get(s_key, {}).get("seconds")
        line = f"{label:<24}{(f'{s:.4f}' if s else '-'):>14}"
        for threads in (1, cores):
            o = ours.get(f"{o_key}/{threads}t")
            t = o["seconds"] if o else None
            line += f"{(f'{t:.4f}' if t else '-'):>18}{(f'{s / t:.1f}x' if s and t else '-'):>8}"
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"smash": smash, "hydrograd": ours}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
