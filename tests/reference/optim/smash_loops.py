"""Run smash's own optimizer loops (`_sbs_optimize`, `_adaptive_optimize`) on an analytic objective.

The model is replaced by mocks: the module-level `wrap_parameters_to_control`, `wrap_forward_run` and
`_get_parameters_b` of smash.core.simulation.optimize.optimize are patched to evaluate the function of
functions.py at `parameters.control.x`. Everything else (the loops, the update classes, early stopping) is smash's.

stdin: {"optimizer", "function", "x0", "lower", "upper" (bit patterns), "termination_crit", "learning_rate"?}
stdout: {"evaluations": [{"x": [bits], "cost": bits, "gradient": bool}], "callbacks": [{"x", "cost", "n_iter"}],
         "control_vector": [bits], "n_iter": int}
"""

import importlib
import json
import sys
from types import SimpleNamespace

import numpy as np

from functions import bits, bounds, make, unbits

opt = importlib.import_module("smash.core.simulation.optimize.optimize")

spec = json.load(sys.stdin)
fun = make(spec)
x0 = np.array([unbits(v) for v in spec["x0"]])
lower, upper = bounds(spec)
n = len(x0)
evaluations = []

# smash's nbd: 0 unbounded, 1 lower only, 2 both, 3 upper only
nbd = np.array([(lo is not None and hi is not None) * 2 + (lo is not None and hi is None) + (lo is None and hi is not None) * 3
                for lo, hi in zip(lower, upper)], dtype=np.int32)
control = SimpleNamespace(
    n=n,
    x=x0.copy(),
    nbd=nbd,
    l=np.array([0.0 if v is None else v for v in lower]),
    u=np.array([0.0 if v is None else v for v in upper]),
)
parameters = SimpleNamespace(control=control)
output = SimpleNamespace(cost=None)
model = SimpleNamespace(setup=None, mesh=None, _input_data=None, _output=output)
wrap_options = SimpleNamespace(comm=SimpleNamespace(verbose=False), optimize=SimpleNamespace(optimizer=spec["optimizer"]))


def forward(setup, mesh, input_data, parameters, output, options, returns):
    x = [float(v) for v in parameters.control.x]
    output.cost, _ = fun(x)
    evaluations.append({"x": [bits(v) for v in x], "cost": bits(output.cost), "gradient": False})


def parameters_b(model, parameters, wrap_options, wrap_returns, cotangent):
    x = [float(v) for v in parameters.control.x]
    model._output.cost, g = fun(x)
    evaluations.append({"x": [bits(v) for v in x], "cost": bits(model._output.cost), "gradient": True})
    return SimpleNamespace(control=SimpleNamespace(x=np.array(g)))


opt.wrap_parameters_to_control = lambda *args: None
opt.wrap_forward_run = forward
opt._get_parameters_b = parameters_b

callbacks = []


def callback(iopt):
    callbacks.append({"x": [bits(v) for v in iopt.control_vector], "cost": bits(iopt.cost), "n_iter": int(iopt.n_iter)})


optimize_options = {"termination_crit": spec["termination_crit"]}
if spec["optimizer"] == "sbs":
    run = opt._sbs_optimize
else:
    lr = spec.get("learning_rate")
    if lr is None:
        lr = getattr(opt, opt.OPTIMIZER_CLASS[opt.ADAPTIVE_OPTIMIZER.index(spec["optimizer"])])().learning_rate
    optimize_options["learning_rate"] = lr
    run = opt._adaptive_optimize
ret = run(model, parameters, wrap_options, None, optimize_options, {"keys": ["control_vector", "n_iter"]}, callback)
# The closing forward run at the final point is smash's, not the optimizer's: drop it.
final = evaluations.pop()
assert final["x"] == [bits(v) for v in ret["control_vector"]]
json.dump(
    {
        "evaluations": evaluations,
        "callbacks": callbacks,
        "control_vector": [bits(v) for v in ret["control_vector"]],
        "n_iter": int(ret["n_iter"]),
    },
    sys.stdout,
)
