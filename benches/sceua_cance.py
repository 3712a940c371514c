#!/usr/bin/env python3
"""SCE-UA with a budget of 5,000 evaluations calibrating Cance (uniform gr4-lr: cp, ct, kexc, llr within
smash's bounds), side by side in one run:

  spotpy    SPOTPY's `sceua` driving smash's forward run (`Model.set_rr_parameters` + `Model.forward_run`,
            ncpu=1), objective 1 − NSE at the most downstream gauge (smash's default cost)
  hydrograd `hydrograd train` with a stage `optimizer = "sceua"` on the same data, cost and budget

Both use SPOTPY's numbers (ngs = 20, so npg = 9, nps = 5, nspl = 9 for 4 parameters; hydrograd runs Duan's
algorithm, its default `variant = "duan"`) and stop on the
budget. SPOTPY counts each CCE trial twice against `rep` (spec samplers.md §1.6), so with rep = 5000 it runs
fewer model evaluations: both numbers of real evaluations are reported, and the ratio is given per
evaluation as well as per run.

  python benches/sceua_cance.py --hydrograd target/release/hydrograd [--evaluations 5000] [--json out.json]
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
NAMES = ["cp", "ct", "kexc", "llr"]
BOUNDS = {"cp": (1e-6, 1000.0), "ct": (1e-6, 1000.0), "kexc": (-50.0, 50.0), "llr": (1e-6, 1000.0)}


def spotpy_run(evaluations: int, seed: int) -> dict:
    os.environ.setdefault("TQDM_DISABLE", "1")
    import numpy as np
    import smash
    import spotpy

    setup, mesh = smash.factory.load_dataset("Cance")
    model = smash.Model(setup, mesh)
    common = {"verbose": False, "ncpu": 1}
    # smash's default cost: gauge "dws", the most downstream gauge
    g = int(np.argmax(model.mesh.area))
    qobs = model.response_data.q[g].astype(np.float64)
    observed = qobs >= 0
    calls = {"n": 0}

    class Setup:
        params = [spotpy.parameter.Uniform(n, *BOUNDS[n]) for n in NAMES]

        def parameters(self):
            return spotpy.parameter.generate(self.params)

        def simulation(self, x):
            for name, value in zip(NAMES, x):
                model.set_rr_parameters(name, float(value))
            model.forward_run(common_options=common)
            calls["n"] += 1
            return model.response.q[g].astype(np.float64)

        def evaluation(self):
            return qobs

        def objectivefunction(self, simulation, evaluation):
            o, s = evaluation[observed], simulation[observed]
            return float(np.sum((o - s) ** 2) / np.sum((o - o.mean()) ** 2))  # 1 − NSE

    sampler = spotpy.algorithms.sceua(Setup(), dbformat="ram", save_sim=False, random_state=seed)
    t0 = time.perf_counter()
    sampler.sample(evaluations)
    seconds = time.perf_counter() - t0
    best = float(np.min(sampler.getdata()["like1"]))
    return {"seconds": seconds, "evaluations": calls["n"], "best_cost": best}


def hydrograd_run(exe: str, evaluations: int, seed: int, threads: int | None) -> dict:
    from smash.factory.dataset.dataset import DATASET_PATH

    d = os.path.join(os.path.realpath(DATASET_PATH), "Cance")
    config = f'''[setup]
hydrological_module = "gr4"
routing_module = "lr"
dt = 3600
start_time = "2014-09-15 00:00"
end_time = "2014-11-14 00:00"
prcp_directory = "{d}/prcp"
prcp_conversion_factor = 0.1
pet_directory = "{d}/pet"
daily_interannual_pet = true
qobs_directory = "{d}/qobs"

[mesh]
flwdir = "{os.path.dirname(d)}/France_flwdir.tif"
gauge_attributes = "{d}/gauge_attributes.csv"

[[train.stage]]
mapping = "uniform"
optimizer = "sceua"
[train.stage.optimize_options]
max_evaluations = {evaluations}
random_state = {seed}
'''
    with tempfile.TemporaryDirectory() as tmp:
        # a private cache: the forcing cache is warmed below, the evaluation cache starts empty
        config = config.replace("[setup]\n", f'[setup]\ncache_directory = "{tmp}/cache"\n', 1)
        path = Path(tmp) / "cance_sceua.toml"
        path.write_text(config)
        env = dict(os.environ)
        if threads:
            env["RAYON_NUM_THREADS"] = str(threads)
        # a first run fills the forcing cache (reading rasters is not calibration)
        subprocess.run([exe, "run", str(path), "--out", f"{tmp}/warm"], check=True, env=env, capture_output=True)
        t0 = time.perf_counter()
        done = subprocess.run(
            [exe, "train", str(path), "--out", f"{tmp}/out"], check=True, env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - t0
        import pandas as pd

        samples = pd.read_parquet(f"{tmp}/out/samples")
        return {
            "seconds": seconds,
            "evaluations": int(len(samples)),
            "model_seconds": float(samples["seconds"].sum()),
            "best_cost": float(samples["cost"].min()),
            "stdout": done.stdout.strip().splitlines()[-3:],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hydrograd", required=True)
    parser.add_argument("--evaluations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    h = hydrograd_run(args.hydrograd, args.evaluations, args.seed, args.threads)
    print(f"hydrograd: {h['evaluations']} evaluations in {h['seconds']:.2f} s, best 1-NSE {h['best_cost']:.6f}", flush=True)
    s = spotpy_run(args.evaluations, args.seed)
    print(f"spotpy+smash: {s['evaluations']} evaluations in {s['seconds']:.2f} s, best 1-NSE {s['best_cost']:.6f}")
    ratio = s["seconds"] / h["seconds"]
    per_eval = (s["seconds"] / s["evaluations"]) / (h["seconds"] / h["evaluations"])
    print(f"ratio per run {ratio:.1f}x, per evaluation {per_eval:.1f}x; "
          f"evaluations/s hydrograd {h['evaluations'] / h['seconds']:.0f}, spotpy+smash {s['evaluations'] / s['seconds']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"hydrograd": h, "spotpy": s, "ratio": ratio, "per_evaluation": per_eval}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
