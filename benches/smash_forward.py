#!/usr/bin/env python3
"""Time smash's (hydro-smash 1.3) forward run, single thread, on the shipped datasets.

Cases:
  cance        Cance gr4+lr default, Model.forward_run (ncpu=1), best of --repeats
  cance_mfr64  Cance, smash.multiple_forward_run over 64 parameter sets (cp, ct, kexc, llr sampled uniformly
               within smash's bounds by smash.factory.generate_samples, random_state=0), ncpu=1, best of
               --mfr-repeats
  france       France gr4+lr, bbox mesh (906,044 active cells x 32 hourly steps), best of --france-repeats

Prints one JSON object on stdout (logs go to stderr): per case the model-build time (reading forcings,
etc.), the forward seconds and cell-steps/s (active cells x time steps [x samples] / seconds).

Usage: smash_forward.py [--cases cance,cance_mfr64,france] [--repeats 10] [--mfr-repeats 2] [--france-repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import smash  # noqa: E402

CASES = ("cance", "cance_mfr64", "france")
FRANCE_BBOX = (100_000, 1_250_000, 6_050_000, 7_125_000)
COMMON = {"ncpu": 1, "verbose": False}


def log(msg: str) -> None:
    print(f"[smash_forward] {msg}", file=sys.stderr, flush=True)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def best_of(fn, n: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(max(1, n)):
        _, t = timed(fn)
        times.append(t)
    return min(times), times


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def build(name: str):
    setup, mesh = smash.factory.load_dataset(name)
    if name == "france":
        mesh, t_mesh = timed(lambda: smash.factory.generate_mesh(smash.factory.load_dataset("flwdir"),
                                                                 bbox=FRANCE_BBOX))
    else:
        t_mesh = None
    model, t_build = timed(lambda: smash.Model(setup, mesh))
    return model, t_build, t_mesh


def bench_forward(name: str, repeats: int) -> dict:
    model, t_build, t_mesh = build(name)
    nac, nt = int(model.mesh.nac), int(model.setup.ntime_step)
    model.forward_run(common_options=COMMON)  # warm-up
    best, times = best_of(lambda: model.forward_run(common_options=COMMON), repeats)
    out = {
        "model_build_s": round(t_build, 4),
        "active_cells": nac,
        "time_steps": nt,
        "repeats": len(times),
        "seconds": best,
        "seconds_all": [round(t, 5) for t in times],
        "cell_steps_per_s": nac * nt / best,
    }
    if t_mesh is not None:
        out["mesh_generation_s"] = round(t_mesh, 4)
    return out


def bench_mfr(n_samples: int, repeats: int) -> dict:
    model, t_build, _ = build("cance")
    nac, nt = int(model.mesh.nac), int(model.setup.ntime_step)
    names = ["cp", "ct", "kexc", "llr"]
    bounds = model.get_rr_parameters_bounds()
    problem = {"num_vars": len(names), "names": names, "bounds": [list(bounds[n]) for n in names]}
    samples = smash.factory.generate_samples(problem, n=n_samples, random_state=0)
    res, _ = timed(lambda: smash.multiple_forward_run(model, samples, common_options=COMMON))
    best, times = best_of(lambda: smash.multiple_forward_run(model, samples, common_options=COMMON), repeats)
    cost = np.asarray(res.cost)
    return {
        "model_build_s": round(t_build, 4),
        "active_cells": nac,
        "time_steps": nt,
        "samples": n_samples,
        "repeats": len(times),
        "seconds": best,
        "seconds_all": [round(t, 5) for t in times],
        "seconds_per_sample": best / n_samples,
        "cell_steps_per_s": n_samples * nac * nt / best,
        "cost_min_median_max": [float(cost.min()), float(np.median(cost)), float(cost.max())],
    }


def main() -> int:
    # smash prints progress ("</> ...") on stdout: keep stdout for the JSON result alone
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        return run(real_stdout)
    finally:
        sys.stdout = real_stdout


def run(out) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    ap.add_argument("--repeats", type=int, default=10, help="repeats for cance (best is reported)")
    ap.add_argument("--mfr-repeats", type=int, default=2, help="repeats for cance_mfr64")
    ap.add_argument("--france-repeats", type=int, default=3, help="repeats for france")
    ap.add_argument("--samples", type=int, default=64, help="parameter sets for cance_mfr64")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    bad = [c for c in cases if c not in CASES]
    if bad:
        ap.error(f"unknown case(s) {bad}; choices: {list(CASES)}")

    result = {
        "tool": "smash",
        "smash_version": smash.__version__,
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "threads": 1,
        "cases": {},
    }
    for c in cases:
        log(f"{c} ...")
        if c == "cance":
            r = bench_forward("cance", args.repeats)
        elif c == "cance_mfr64":
            r = bench_mfr(args.samples, args.mfr_repeats)
        else:
            r = bench_forward("france", args.france_repeats)
        log(f"{c}: {r['seconds']:.4f} s, {r['cell_steps_per_s']:.4g} cell-steps/s (build {r['model_build_s']} s)")
        result["cases"][c] = r
    print(json.dumps(result, indent=1), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
