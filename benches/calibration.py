#!/usr/bin/env python3
"""Calibration and gradient timings of hydrograd beside smash, measured in one run on the same machine.

On Cance with smash's defaults (the golden config of tests/reference/make_golden.py):
  sbs       uniform SBS (smash: Model.optimize(mapping="uniform")); hydrograd: `hydrograd train`
  lbfgsb    distributed L-BFGS-B, 100 iterations (smash: Model.optimize(mapping="distributed"))
  gradient  one gradient over one forward run with its cost (smash: backward_run / forward_run;
            hydrograd: `hydrograd bench --gradient`)
Every smash figure is one thread (ncpu=1); hydrograd uses all cores unless --threads is given.

  python benches/calibration.py --hydrograd target/release/hydrograd --golden tests/golden [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = {
    "sbs": '[[train.stage]]\nmapping = "uniform"\noptimizer = "sbs"\n',
    "lbfgsb": '[[train.stage]]\nmapping = "distributed"\noptimizer = "lbfgsb"\n',
}


def smash_timings(repeats: int) -> dict:
    os.environ.setdefault("TQDM_DISABLE", "1")
    import smash

    setup, mesh = smash.factory.load_dataset("Cance")
    common = {"verbose": False, "ncpu": 1}
    out = {}
    model = smash.Model(setup, mesh)
    best = lambda f: min(_timed(f) for _ in range(repeats))  # noqa: E731
    out["forward"] = best(lambda: model.forward_run(common_options=common))
    out["gradient"] = best(lambda: model.backward_run(common_options=common))
    for name, mapping in [("sbs", "uniform"), ("lbfgsb", "distributed")]:
        m = smash.Model(setup, mesh)
        t0 = time.perf_counter()
        ret = m.optimize(mapping=mapping, common_options=common, return_options={"cost": True, "n_iter": True})
        out[name] = time.perf_counter() - t0
        out[f"{name}_cost"] = float(ret.cost)
        out[f"{name}_n_iter"] = int(ret.n_iter)
    return out


def _timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def hydrograd_timings(exe: str, config: Path, threads: int | None, repeats: int) -> dict:
    out = {}
    base = config.read_text()
    extra = ["--threads", str(threads)] if threads else []
    with tempfile.TemporaryDirectory() as tmp:
        for name, stage in STAGES.items():
            cfg = Path(tmp) / f"{name}.toml"
            cfg.write_text(f"{base}\n{stage}")
            t0 = time.perf_counter()
            env = dict(os.environ, RAYON_NUM_THREADS=str(threads)) if threads else None
            res = subprocess.run([exe, "train", str(cfg), "--out", str(Path(tmp) / name), "--fresh"],
                                 check=True, capture_output=True, text=True, env=env)
            out[name] = time.perf_counter() - t0
            line = next(li for li in res.stdout.splitlines() if li.startswith("stage 1:"))
            out[f"{name}_summary"] = line
        res = subprocess.run([exe, "bench", str(config), "--gradient", "--repeats", str(repeats), *extra],
                             check=True, capture_output=True, text=True)
        rows = [json.loads(li) for li in res.stdout.splitlines() if li.startswith("{")]
        by = {r["case"]: r for r in rows}
        out["forward"] = by["forward_cost"]["seconds"]
        out["gradient"] = by["gradient"]["seconds"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hydrograd", default=str(HERE.parent / "target/release/hydrograd"))
    ap.add_argument("--golden", default=os.environ.get("HYDROGRAD_GOLDEN_DIR", str(HERE.parent / "tests/golden")))
    ap.add_argument("--threads", type=int, help="hydrograd worker threads (default: all cores)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", help="also write all figures to this file")
    args = ap.parse_args()
    config = Path(args.golden) / "cance" / "config.toml"
    if not config.is_file():
        sys.exit(f"{config} not found: run `bash tests/run_all.sh` (or tests/reference/make_golden.py) first")
    hg = hydrograd_timings(args.hydrograd, config, args.threads, args.repeats)
    sm = smash_timings(max(3, args.repeats // 4))
    print(f"Cance, {os.cpu_count()} cores; smash 1.3 with ncpu=1, hydrograd with "
          f"{args.threads or 'all'} thread(s)")
    print(f"{'case':<34}{'smash [s]':>12}{'hydrograd [s]':>16}{'speed-up':>10}")
    for case, label in [("sbs", "uniform SBS calibration"), ("lbfgsb", "distributed L-BFGS-B, 100 it."),
                        ("forward", "forward run + cost"), ("gradient", "gradient (forward + adjoint)")]:
        print(f"{label:<34}{sm[case]:>12.4f}{hg[case]:>16.4f}{sm[case] / hg[case]:>9.1f}x")
    print(f"gradient / forward: smash {sm['gradient'] / sm['forward']:.2f}, "
          f"hydrograd {hg['gradient'] / hg['forward']:.2f}")
    print(f"smash final J: SBS {sm['sbs_cost']:.6f} ({sm['sbs_n_iter']} it.), "
          f"L-BFGS-B {sm['lbfgsb_cost']:.6f} ({sm['lbfgsb_n_iter']} it.)")
    print(f"hydrograd: {hg['sbs_summary']}\n           {hg['lbfgsb_summary']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"smash": sm, "hydrograd": hg}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
