"""SPOTPY 1.6.7's multi-objective samplers (NSGAII, padds) on ZDT1, ZDT2 and DTLZ2, for
`tests/spotpy_multiobjective.rs`.

Reads a JSON request on stdin and prints one JSON object on stdout. Floats travel as IEEE-754 bit patterns.
SPOTPY's own messages are discarded (they would corrupt stdout). Requests, by `mode`:

* `{"mode": "info"}` -> `{"spotpy_version"}`.
* `{"mode": "run", "processes": int, "cells": [{"method", "problem", "dim", "budget", "n_pop", "seeds"}]}` ->
  `{"cells": [{"runs": [{"seed", "front": [bits], "evaluations", "error", "cpu"}]}]}`: every cell run once per
  seed (the runs sorted by seed) with `dbformat="ram"`, `save_sim=False`, `random_state=seed`, the parameters
  `Uniform(0, 1)`. `method` `"nsgaii"`: `NSGAII(...).sample(generations, n_obj, n_pop)` with SPOTPY's default
  operators and `generations = budget / n_pop + 1` (SPOTPY evaluates `(generations - 1) * n_pop` points);
  `"padds"`: `padds(...).sample(budget)` (metric `"ones"`, SPOTPY's default). `front` is the non-dominated
  set of every objective vector the run evaluated, `[F, K]` row-major, `evaluations` the number of model
  calls, `error` SPOTPY's exception, if it raised one (then `front` holds what it evaluated before), `cpu` the
  run's CPU time [s]. Problems (all objectives minimised, the box [0, 1]^dim): `zdt1`, `zdt2`, `dtlz2` (3
  objectives), with the formulas of `src/samplers/multi_functions.rs`.
"""

import contextlib
import io
import json
import math
import multiprocessing
import random
import struct
import sys
import time

import numpy as np


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def zdt_g(x):
    return 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)


def zdt1(x):
    g = zdt_g(x)
    return [x[0], g * (1.0 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = zdt_g(x)
    return [x[0], g * (1.0 - (x[0] / g) ** 2)]


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]


PROBLEMS = {"zdt1": (zdt1, 2), "zdt2": (zdt2, 2), "dtlz2": (dtlz2, 3)}


def non_dominated(points):
    """The points no other point dominates (minimisation): sorted lexicographically, each compared with the
    non-dominated points before it."""
    front = []
    for p in sorted(points):
        if not any(all(a <= b for a, b in zip(q, p)) and any(a < b for a, b in zip(q, p)) for q in front):
            front.append(p)
    return front


def setup(problem, dim, log):
    import spotpy

    function, _ = PROBLEMS[problem]
    attrs = {f"x{i}": spotpy.parameter.Uniform(f"x{i}", low=0.0, high=1.0, minbound=0.0, maxbound=1.0) for i in range(dim)}

    def simulation(self, x):
        values = function([float(v) for v in x])
        log.append(values)
        return values

    def evaluation(self):
        return [0.0] * PROBLEMS[problem][1]

    def objectivefunction(self, simulation, evaluation, params=None):
        return simulation

    attrs.update(simulation=simulation, evaluation=evaluation, objectivefunction=objectivefunction)
    return type("Setup", (), attrs)()


def run_one(job):
    """One SPOTPY run: `(cell index, seed, cell)` -> `(cell index, result)`."""
    index, seed, cell = job
    import spotpy

    start = time.process_time()
    np.random.seed(seed)
    random.seed(seed)
    log = []
    instance = setup(cell["problem"], cell["dim"], log)
    error = None
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            if cell["method"] == "nsgaii":
                sampler = spotpy.algorithms.NSGAII(
                    instance, dbname="mo_nsgaii", dbformat="ram", save_sim=False, random_state=seed
                )
                n_pop = cell["n_pop"]
                sampler.sample(cell["budget"] // n_pop + 1, PROBLEMS[cell["problem"]][1], n_pop)
            else:
                sampler = spotpy.algorithms.padds(
                    instance, dbname="mo_padds", dbformat="ram", save_sim=False, random_state=seed
                )
                sampler.sample(cell["budget"])
        except Exception as e:  # noqa: BLE001 - SPOTPY's padds raises with numpy >= 1.24
            error = f"{type(e).__name__}: {e}"
    front = [bits(v) for p in non_dominated(log) for v in p]
    cpu = time.process_time() - start
    return index, {"seed": seed, "front": front, "evaluations": len(log), "error": error, "cpu": cpu}


def run(request):
    cells = request["cells"]
    jobs = [(i, s, c) for i, c in enumerate(cells) for s in c["seeds"]]
    results = [[] for _ in cells]
    processes = max(1, int(request.get("processes", 2)))
    if processes == 1:
        outcomes = map(run_one, jobs)
        for i, r in outcomes:
            results[i].append(r)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for i, r in pool.imap_unordered(run_one, jobs, chunksize=1):
                results[i].append(r)
    for r in results:
        r.sort(key=lambda run: run["seed"])
    return {"cells": [{"runs": r} for r in results]}


def info(_request):
    import spotpy

    return {"spotpy_version": spotpy.__version__}


def main():
    request = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):
        import spotpy  # noqa: F401 - import messages, if any, go to stderr

        reply = {"info": info, "run": run}[request["mode"]](request)
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
