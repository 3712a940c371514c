"""SPOTPY 1.6.7's samplers on the test functions and on its shipped hymod, for `tests/spotpy_methods.rs`.

Reads a JSON request on stdin and prints one JSON object on stdout. Floats travel as IEEE-754 bit patterns.
SPOTPY's own messages are discarded (they would corrupt stdout). Requests, by `mode`:

* `{"mode": "info"}` -> `{"spotpy_version", "hymod_dir"}`: the installed SPOTPY's version and the folder of its
  `hymod_python` example (which holds `hymod_input.csv`).
* `{"mode": "hymod", "parameters": [[bits x5]]}` -> `{"runs": [{"simulation": [bits], "evaluation": [bits],
  "rmse": bits}]}`: SPOTPY's own hymod setup (`spot_setup_hymod_python.spot_setup`: hymod x 1.783e6/86400, the
  first 366 days dropped) at each parameter set (cmax, bexp, alpha, Ks, Kq), with its RMSE.
* `{"mode": "run", "seeds": [int], "processes": int, "cells": [{"method", "problem", "dim", "bound": bits,
  "budget", "seeds"?: [int]}]}` -> `{"cells": [{"runs": [{"seed", "best": bits, "evaluations", "error",
  "cpu"}]}]}`: every cell run once per seed (the cell's own `seeds` if it has them; the runs sorted by seed) with
  SPOTPY's defaults (`dbformat="ram"`, `save_sim=False`, `random_state=seed`). `best` is the lowest value f (the
  test function, or hymod's RMSE) over every model call of the run, `evaluations` the number of model calls
  (SPOTPY's SCE-UA and DREAM stop before `budget`), `error` SPOTPY's exception, if it raised one (then `best` is
  the best before it), and `cpu` the run's CPU time [s]. A run depends on its cell and seed only, not on the
  other jobs of the request. Problems: `rosenbrock`, `griewank`, `ackley` on `[-bound, bound]^dim`, and `hymod`
  (5 parameters, SPOTPY's setup and bounds). SPOTPY gets f where it minimises (`sceua`) and -f where it
  maximises (mle, mcmc, sa, demcz, dream, rope, dds); mc and lhs ignore the direction. The runs go to a pool of
  `processes` worker processes.
"""

import contextlib
import io
import json
import math
import multiprocessing
import os
import random
import struct
import sys
import time

import numpy as np


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def unbits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def rosenbrock(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(len(x) - 1))


def griewank(x):
    s = sum(v * v / 4000.0 for v in x)
    p = 1.0
    for j, v in enumerate(x):
        p *= math.cos(v / math.sqrt(j + 1))
    return s - p + 1.0


def ackley(x):
    n = len(x)
    sq = sum(v * v for v in x)
    cs = sum(math.cos(2.0 * math.pi * v) for v in x)
    return max(-20.0 * math.exp(-0.2 * math.sqrt(sq / n)) - math.exp(cs / n) + 20.0 + math.e, 0.0)


FUNCTIONS = {"rosenbrock": rosenbrock, "griewank": griewank, "ackley": ackley}

# SPOTPY maximises the objective of these; sceua minimises; mc and lhs do not care.
MAXIMISE = {"mle", "mcmc", "sa", "demcz", "dream", "rope", "dds"}


class Log:
    """The model calls of one run: their number and the lowest value."""

    def __init__(self):
        self.calls = 0
        self.best = math.inf

    def add(self, value):
        self.calls += 1
        if value < self.best:
            self.best = value


def function_setup(name, dim, bound, sign, log):
    """A SPOTPY setup on `[-bound, bound]^dim` (min/maxbound given; step and optguess from SPOTPY's sampling)."""
    import spotpy

    function = FUNCTIONS[name]
    attrs = {}
    for i in range(dim):
        p = f"x{i}"
        attrs[p] = spotpy.parameter.Uniform(p, low=-bound, high=bound, minbound=-bound, maxbound=bound)

    def simulation(self, x):
        value = function([float(v) for v in x])
        log.add(value)
        return [value]

    def evaluation(self):
        return [0.0]

    def objectivefunction(self, simulation, evaluation, params=None):
        return sign * simulation[0]

    attrs.update(simulation=simulation, evaluation=evaluation, objectivefunction=objectivefunction)
    return type("Setup", (), attrs)()


def fast_hymod(precip, pet, cmax, bexp, alpha, rs, rq):
    """SPOTPY's `hymod(Precip, PET, cmax, bexp, alpha, Rs, Rq)` inlined: the same operations on the same values
    (so the same results, bit for bit; checked at each run's first call), three times faster."""
    x_loss = 0.0
    x_slow = 0
    q0 = q1 = q2 = 0
    b1 = bexp + 1
    ib1 = 1 / (bexp + 1)
    cb = cmax / (bexp + 1)
    ks = rs / (1 - rs)
    kq = rq / (1 - rq)
    output = []
    for p, e in zip(precip, pet):
        xn_prev = x_loss
        ct_prev = cmax * (1 - abs(1 - (b1 * xn_prev / cmax)) ** ib1)
        er1 = p - cmax + ct_prev
        if 0.0 > er1:
            er1 = 0.0
        p = p - er1
        dummy = (ct_prev + p) / cmax
        if 1 < dummy:
            dummy = 1
        xn = cb * (1 - abs(1 - dummy) ** b1)
        er2 = p - (xn - xn_prev)
        if 0 > er2:
            er2 = 0
        evap = (1 - ((cb - xn) / cb)) * e
        xn = xn - evap
        if 0 > xn:
            xn = 0
        x_loss = xn
        et = er1 + er2
        uq = alpha * et
        us = (1 - alpha) * et
        x_slow = (1 - rs) * x_slow + (1 - rs) * us
        qs = ks * x_slow
        q0 = (1 - rq) * q0 + (1 - rq) * uq
        out = kq * q0
        q1 = (1 - rq) * q1 + (1 - rq) * out
        out = kq * q1
        q2 = (1 - rq) * q2 + (1 - rq) * out
        out = kq * q2
        output.append(qs + out)
    return output


def hymod_setup(sign, log):
    """SPOTPY's own hymod setup with RMSE (signed), its model calls logged."""
    from spotpy.examples.spot_setup_hymod_python import spot_setup
    from spotpy.objectivefunctions import rmse

    setup = spot_setup(obj_func=lambda evaluation, simulation: sign * rmse(evaluation, simulation))
    model = setup.simulation
    observed = setup.evaluation()
    factor = setup.Factor

    def simulation(x):
        sim = [v * factor for v in fast_hymod(setup.Precip, setup.PET, x[0], x[1], x[2], x[3], x[4])][366:]
        if log.calls == 0:
            reference = model(x)
            assert sim == reference, "the inlined hymod differs from SPOTPY's"
        log.add(float(rmse(observed, sim)))
        return sim

    # an instance attribute: SPOTPY reads the parameters from the class, the simulation from the instance
    setup.simulation = simulation
    return setup


def run_one(job):
    """One SPOTPY run: `(cell index, seed, cell)` -> `(cell index, result)`."""
    index, seed, cell = job
    import spotpy

    start = time.process_time()
    method = cell["method"]
    sign = -1.0 if method in MAXIMISE else 1.0
    log = Log()
    # SPOTPY's parameters draw 100 000 samples from the global RNG when they are built (step, optguess): seed it
    # first, so that a run does not depend on the jobs its worker ran before (random_state reseeds it later)
    np.random.seed(seed)
    random.seed(seed)
    if cell["problem"] == "hymod":
        setup = hymod_setup(sign, log)
    else:
        setup = function_setup(cell["problem"], cell["dim"], unbits(cell["bound"]), sign, log)
    error = None
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            sampler = getattr(spotpy.algorithms, method)(
                setup, dbname=f"methods_{method}", dbformat="ram", save_sim=False, random_state=seed
            )
            sampler.sample(cell["budget"])
        except Exception as e:  # noqa: BLE001 - SPOTPY's ROPE raises ValueError at random
            error = f"{type(e).__name__}: {e}"
    cpu = time.process_time() - start
    return index, {"seed": seed, "best": bits(log.best), "evaluations": log.calls, "error": error, "cpu": cpu}


def run(request):
    seeds = request.get("seeds", [])
    cells = request["cells"]
    jobs = [(i, s, c) for i, c in enumerate(cells) for s in c.get("seeds", seeds)]
    # the longest first (hymod, then by dimension), so that the workers finish together
    jobs.sort(key=lambda job: (job[2]["problem"] != "hymod", -job[2]["dim"]))
    results = [[] for _ in cells]
    processes = max(1, int(request.get("processes", 2)))
    # hymod's parameters are class attributes, built (from the global RNG) when its module is first imported:
    # import it here, from a fixed state, so that every worker inherits the same ones
    np.random.seed(0)
    import spotpy.examples.spot_setup_hymod_python  # noqa: F401

    if processes == 1:
        outcomes = map(run_one, jobs)
        for i, r in outcomes:
            results[i].append(r)
    else:
        # fork keeps the imports; each job seeds numpy and random itself (random_state)
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for i, r in pool.imap_unordered(run_one, jobs, chunksize=1):
                results[i].append(r)
    for r in results:
        r.sort(key=lambda run: run["seed"])
    return {"cells": [{"runs": r} for r in results]}


def hymod(request):
    from spotpy.examples.spot_setup_hymod_python import spot_setup
    from spotpy.objectivefunctions import rmse

    setup = spot_setup()
    observed = setup.evaluation()
    runs = []
    for parameters in request["parameters"]:
        x = [unbits(b) for b in parameters]
        sim = setup.simulation(x)
        runs.append(
            {
                "simulation": [bits(v) for v in sim],
                "evaluation": [bits(v) for v in observed],
                "rmse": bits(rmse(observed, sim)),
            }
        )
    return {"runs": runs}


def info(_request):
    import spotpy
    import spotpy.examples.hymod_python as hymod_python

    return {"spotpy_version": spotpy.__version__, "hymod_dir": os.path.dirname(os.path.abspath(hymod_python.__file__))}


def main():
    request = json.load(sys.stdin)
    mode = request["mode"]
    with contextlib.redirect_stdout(sys.stderr):
        import spotpy  # noqa: F401 - import messages, if any, go to stderr

        reply = {"info": info, "hymod": hymod, "run": run}[mode](request)
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
