#!/usr/bin/env python3
"""Write the golden reference files of docs/reference-tests.md by running the installed smash.

Usage: make_golden.py [--out DIR] [--cases cance,lez,...] [--force]

smash (hydro-smash 1.3, GPL) is only *run* here, from the installed package: no smash code or data is
copied into the repository. Outputs go to DIR (default <repo>/tests/golden, gitignored).

Every case directory gets a `.stamp` (script hash, smash version, dataset path, output path); a case whose
files all exist and whose stamp matches is skipped, so repeated test runs are quick.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

# Silence smash's tqdm progress bars (tqdm >= 4.66 honours TQDM_DISABLE).
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402

try:
    import smash  # noqa: E402
    from smash.factory.dataset.dataset import DATASET_PATH  # noqa: E402
except ImportError as e:  # pragma: no cover
    sys.exit(f"make_golden.py: cannot import smash ({e}); install hydro-smash==1.3.0")
try:
    from safetensors.numpy import save_file  # noqa: E402
except ImportError as e:  # pragma: no cover
    sys.exit(f"make_golden.py: cannot import safetensors ({e}); pip install safetensors")

import pandas as pd  # noqa: E402  (a smash dependency)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
DATASET = os.path.realpath(DATASET_PATH)
FLWDIR = os.path.join(DATASET, "France_flwdir.tif")

# France bbox, as in smash's France/mesh_France.py
FRANCE_BBOX = (100_000, 1_250_000, 6_050_000, 7_125_000)

# case -> (dataset, routing_module, kind)
CASES = {
    "cance": ("Cance", "lr", "forward"),
    "cance_kw": ("Cance", "kw", "forward"),
    "cance_lag0": ("Cance", "lag0", "forward"),
    "cance_zero": ("Cance", "zero", "forward"),
    "cance_gaps": ("Cance", "lr", "gaps"),
    "lez": ("Lez", "lr", "forward"),
    "france": ("France", "lr", "states"),
    "cance_grad": ("Cance", "lr", "grad"),
    "lez_grad": ("Lez", "lr", "grad"),
    "cance_cost": ("Cance", "lr", "cost"),
    "cance_optimize": ("Cance", "lr", "optimize"),
    "cance_regional": ("Cance", "lr", "regional"),
    "lez_mlp": ("Lez", "lr", "hybrid"),
    "lez_mlp2": ("Lez", "lr", "hybrid"),
    "lez_ode": ("Lez", "lr", "hybrid"),
    "lez_ude": ("Lez", "lr", "hybrid"),
    "lez_tutorial": ("Lez", "lr", "tutorial"),
    "cance_ann": ("Cance", "lr", "ann"),
}

# hybrid cases: hydrological_module and hidden_neuron (None: no network)
HYBRID = {
    "lez_mlp": ("gr4_mlp", 16),
    "lez_mlp2": ("gr4_mlp", [12, 6]),
    "lez_ode": ("gr4_ode", None),
    "lez_ude": ("gr4_ude", [12, 6]),
}

# cance_gaps: number of consecutive hourly prcp files removed, and nodata-patched files
GAP_LEN = 24
N_PATCHED = 4  # 3 partial patches (northern half of the mesh window), 1 whole-raster patch
PRCP_NODATA = 65535

ROUTING_PARAMS = {"zero": [], "lag0": [], "lr": ["llr"], "kw": ["akw", "bkw"]}
ROUTING_STATES = {"zero": [], "lag0": [], "lr": ["hlr"], "kw": []}


def log(msg: str) -> None:
    print(f"[make_golden] {msg}", flush=True)


def script_hash() -> str:
    with open(os.path.realpath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stamp_for(case: str, out_dir: str) -> dict:
    return {
        "case": case,
        "script_sha256": script_hash(),
        "smash_version": smash.__version__,
        "numpy_version": np.__version__,
        "dataset_path": DATASET,
        "out_dir": os.path.realpath(out_dir),
    }


def expected_files(case: str) -> list[str]:
    files = ["config.toml", "mesh.safetensors"]
    if CASES[case][2] == "states":
        files += ["forward.safetensors"]
    elif CASES[case][2] == "cost":
        files += ["cost.safetensors"]
    elif CASES[case][2] != "mesh_only":
        files += ["atmos.safetensors", "forward.safetensors"]
    if CASES[case][2] == "grad":
        files += ["gradient.safetensors"]
    if CASES[case][2] == "optimize":
        files += ["optimize.safetensors"]
    if CASES[case][2] == "regional":
        files += ["regional.safetensors"]
    if CASES[case][2] == "hybrid":
        files = ["config.toml", "mesh.safetensors", "hybrid.safetensors"]
    if CASES[case][2] == "tutorial":
        files = ["config.toml", "mesh.safetensors", "tutorial.safetensors"]
    if CASES[case][2] == "ann":
        files = ["config.toml", "mesh.safetensors", "ann.safetensors"]
    return files


def up_to_date(case: str, out_dir: str) -> bool:
    cdir = os.path.join(out_dir, case)
    try:
        with open(os.path.join(cdir, ".stamp")) as f:
            stamp = json.load(f)
    except (OSError, ValueError):
        return False
    if stamp != stamp_for(case, out_dir):
        return False
    return all(os.path.isfile(os.path.join(cdir, fn)) for fn in expected_files(case))


# ----------------------------------------------------------------------------------------------------------
# setup / mesh
# ----------------------------------------------------------------------------------------------------------


def fmt_time(t) -> str:
    return pd.Timestamp(str(t)).strftime("%Y-%m-%d %H:%M")


def dataset_setup(ds: str, routing: str) -> dict:
    setup = smash.io.read_setup(os.path.join(DATASET, ds, f"setup_{ds}.yaml"))
    setup["routing_module"] = routing
    for key in ("qobs_directory", "prcp_directory", "pet_directory", "descriptor_directory"):
        base = key.replace("_directory", "")
        flag = f"read_{base}"
        if setup.get(flag, False):
            setup[key] = os.path.join(DATASET, ds, setup.get(key, base))
    return setup


def dataset_mesh(ds: str) -> tuple[dict, str | None]:
    """Mesh generated like smash's mesh_<ds>.py; returns (mesh, gauge_attributes path or None)."""
    if ds == "France":
        return smash.factory.generate_mesh(flwdir_path=FLWDIR, bbox=FRANCE_BBOX), None
    ga_path = os.path.join(DATASET, ds, "gauge_attributes.csv")
    ga = pd.read_csv(ga_path)
    mesh = smash.factory.generate_mesh(
        flwdir_path=FLWDIR,
        x=list(ga.x),
        y=list(ga.y),
        area=list(ga.area * 1e6),
        code=list(ga.code),
    )
    return mesh, ga_path


def plain(a) -> np.ndarray:
    """generate_mesh returns masked arrays (non-active cells masked): keep the underlying data."""
    return np.ascontiguousarray(np.ma.getdata(a))


def mesh_tensors(mesh: dict) -> tuple[dict, dict]:
    t = {
        "flwdir": plain(mesh["flwdir"]).astype(np.int32),
        "active_cell": plain(mesh["active_cell"]).astype(np.int32),
        "flwpar": plain(mesh["flwpar"]).astype(np.int32),
        "flwacc": plain(mesh["flwacc"]).astype(np.float32),
        "ncpar": plain(mesh["ncpar"]).astype(np.int32),
        "cscpar": plain(mesh["cscpar"]).astype(np.int32),
        "cpar_to_rowcol": plain(mesh["cpar_to_rowcol"]).astype(np.int32),
    }
    if "flwdst" in mesh:  # bbox meshes (france) have no flow distance in smash
        t["flwdst"] = plain(mesh["flwdst"]).astype(np.float32)
    ng = int(mesh.get("ng", 0))
    codes = []
    if ng > 0:
        t["gauge_pos"] = plain(mesh["gauge_pos"]).astype(np.int32)
        t["area"] = plain(mesh["area"]).astype(np.float32)
        t["area_dln"] = plain(mesh["area_dln"]).astype(np.float32)
        codes = [str(c) for c in mesh["code"]]
    meta = {
        "xmin": repr(float(mesh["xmin"])),
        "ymax": repr(float(mesh["ymax"])),
        "dx": repr(float(mesh["xres"])),
        "dy": repr(float(mesh["yres"])),
        "nrow": str(int(mesh["nrow"])),
        "ncol": str(int(mesh["ncol"])),
        "npar": str(int(mesh["npar"])),
        "nac": str(int(mesh["nac"])),
        "code": ",".join(codes),
    }
    return t, meta


# ----------------------------------------------------------------------------------------------------------
# config.toml (hydrograd keys)
# ----------------------------------------------------------------------------------------------------------


def tstr(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string for these paths


def tfloat(x) -> str:
    return repr(float(x))


def write_config(path: str, setup: dict, mesh_src: dict, missing: str = "error") -> None:
    dt = int(setup.get("dt", 3600))
    lines = [
        "# written by tests/reference/make_golden.py (smash %s)" % smash.__version__,
        "[setup]",
        f"hydrological_module = {tstr(setup.get('hydrological_module', 'gr4'))}",
        f"routing_module = {tstr(setup['routing_module'])}",
        f"dt = {dt}",
        f"start_time = {tstr(fmt_time(setup['start_time']))}",
        f"end_time = {tstr(fmt_time(setup['end_time']))}",
        f"prcp_directory = {tstr(setup['prcp_directory'])}",
        f"prcp_conversion_factor = {tfloat(setup.get('prcp_conversion_factor', 1.0))}",
        f"pet_directory = {tstr(setup['pet_directory'])}",
        f"pet_conversion_factor = {tfloat(setup.get('pet_conversion_factor', 1.0))}",
        f"daily_interannual_pet = {'true' if setup.get('daily_interannual_pet', False) else 'false'}",
    ]
    if setup.get("read_qobs", False):
        lines.append(f"qobs_directory = {tstr(setup['qobs_directory'])}")
    if "hidden_neuron" in setup:
        hn = setup["hidden_neuron"]
        lines.append(f"hidden_neuron = {json.dumps(hn)}")
    if setup.get("read_descriptor", False):
        lines.append(f"descriptor_directory = {tstr(setup['descriptor_directory'])}")
        names = ", ".join(tstr(str(n)) for n in setup["descriptor_name"])
        lines.append(f"descriptor_name = [{names}]")
    lines.append(f"missing_forcing_file = {tstr(missing)}")
    lines.append("")
    lines.append("[mesh]")
    lines.append(f"flwdir = {tstr(FLWDIR)}")
    if "gauge_attributes" in mesh_src:
        lines.append(f"gauge_attributes = {tstr(mesh_src['gauge_attributes'])}")
    else:
        b = ", ".join(str(int(v)) for v in mesh_src["bbox"])
        lines.append(f"bbox = [{b}]")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------------------------------------
# cance_gaps: modified prcp copy
# ----------------------------------------------------------------------------------------------------------


def prcp_files_by_date(directory: str) -> dict[str, str]:
    """Map YYYYmmddHHMM (first match in the file name, as smash's regex) -> path."""
    import re

    pat = re.compile(r"(?<!\d)(\d{12})(?!\d)")
    out = {}
    for root, _, files in os.walk(directory):
        for fn in files:
            if not fn.endswith(".tif"):
                continue
            m = pat.search(fn)
            if m:
                out.setdefault(m.group(1), os.path.join(root, fn))
    return out


def make_gaps_prcp(cdir: str, setup: dict, mesh: dict, base_model) -> dict:
    """Copy the Cance prcp folder into cdir/prcp, delete GAP_LEN consecutive files in the rainiest period,
    and overwrite N_PATCHED other rainy files with nodata patches. Returns a description."""
    import rasterio

    src = setup["prcp_directory"]
    dst = os.path.join(cdir, "prcp")
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copyfile)

    # Basin-mean prcp per step from the unmodified run (active cells).
    prcp = np.asarray(base_model.atmos_data.prcp)
    act = plain(mesh["active_cell"]) == 1
    mean = np.where(prcp[act] >= 0, prcp[act], 0.0).mean(axis=0)  # [T]
    T = mean.shape[0]
    # Rainiest window of GAP_LEN steps (strictly inside the window).
    csum = np.concatenate([[0.0], np.cumsum(mean, dtype=np.float64)])
    win = csum[GAP_LEN:] - csum[:-GAP_LEN]
    win[0] = -1.0
    win[-1] = -1.0
    k0 = int(np.argmax(win))
    gap_steps = list(range(k0, k0 + GAP_LEN))

    start = pd.Timestamp(fmt_time(setup["start_time"]))
    dt = pd.Timedelta(seconds=int(setup["dt"]))

    def date_of(k: int) -> str:  # step k is read from the file dated its end
        return (start + (k + 1) * dt).strftime("%Y%m%d%H%M")

    files = prcp_files_by_date(dst)
    removed = []
    for k in gap_steps:
        p = files.get(date_of(k))
        if p is not None:
            os.remove(p)
            removed.append(os.path.relpath(p, dst))

    # Nodata patches: the rainiest remaining steps at least 2*GAP_LEN away from the gap, spread apart.
    order = np.argsort(-mean, kind="stable")
    patched_steps: list[int] = []
    for k in order:
        k = int(k)
        if abs(k - k0) < 2 * GAP_LEN or any(abs(k - j) < 12 for j in patched_steps):
            continue
        p = files.get(date_of(k))
        if p is None:
            continue
        with rasterio.open(p) as ds:
            if ds.nodata is None or float(ds.nodata) != float(PRCP_NODATA):
                continue
        patched_steps.append(k)
        if len(patched_steps) == N_PATCHED:
            break

    xmin, ymax = float(mesh["xmin"]), float(mesh["ymax"])
    dx, dy = float(mesh["xres"]), float(mesh["yres"])
    nrow = int(mesh["nrow"])
    ncol = int(mesh["ncol"])
    patches = []
    for i, k in enumerate(patched_steps):
        p = files[date_of(k)]
        with rasterio.open(p, "r+") as ds:
            a = ds.read(1)
            if i == N_PATCHED - 1:
                a[:, :] = PRCP_NODATA
                what = "whole raster"
            else:
                # northern half of the mesh window, in raster indices
                tr = ds.transform
                c0 = int(round((xmin + 0.5 * dx - tr.c) / tr.a - 0.5))
                r0 = int(round((tr.f - (ymax - 0.5 * dy)) / -tr.e - 0.5))
                r1, c1 = r0 + nrow // 2, c0 + ncol
                r0, c0 = max(r0, 0), max(c0, 0)
                a[r0:r1, c0:c1] = PRCP_NODATA
                what = f"raster rows {r0}:{r1}, cols {c0}:{c1}"
            ds.write(a, 1)
        patches.append({"step": k, "file": os.path.relpath(p, dst), "patch": what})

    return {"gap_steps": [gap_steps[0], gap_steps[-1]], "removed": len(removed), "patches": patches}


# ----------------------------------------------------------------------------------------------------------
# forward run and dump
# ----------------------------------------------------------------------------------------------------------


def f32(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def run_forward(setup: dict, mesh: dict):
    model = smash.Model(setup, mesh)
    ret = model.forward_run(common_options={"verbose": False, "ncpu": 1}, return_options={"cost": True})
    return model, float(ret.cost)


def dump_forward(cdir: str, model, cost: float, routing: str) -> dict:
    setup = model.setup
    atmos = {
        "prcp": f32(model.atmos_data.prcp),
        "pet": f32(model.atmos_data.pet),
        "qobs": f32(model.response_data.q),
        "descriptor": f32(model.physio_data.descriptor),
    }
    names = [str(n) for n in np.atleast_1d(setup.descriptor_name)] if setup.read_descriptor else []
    save_file(atmos, os.path.join(cdir, "atmos.safetensors"), metadata={"descriptor_name": ",".join(names)})

    fwd = {"qsim": f32(model.response.q), "cost": np.array([cost], dtype=np.float32)}
    for p in ["ci", "cp", "ct", "kexc"] + ROUTING_PARAMS[routing]:
        fwd[p] = f32(model.get_rr_parameters(p))
    for s in ["hi", "hp", "ht"] + ROUTING_STATES[routing]:
        fwd[s] = f32(model.get_rr_final_states(s))
    # sanity: the full smash lists of this structure are covered
    assert set(map(str, model.rr_parameters.keys)) <= set(fwd), model.rr_parameters.keys
    assert set(map(str, model.rr_final_states.keys)) <= set(fwd), model.rr_final_states.keys
    save_file(fwd, os.path.join(cdir, "forward.safetensors"))
    return {k: list(v.shape) for k, v in {**atmos, "qsim": fwd["qsim"]}.items()}


GRAD_VARIABLES = ["cp", "ct", "kexc", "llr", "hi", "hp", "ht", "hlr"]


def control_maps(model, names, values) -> dict:
    """Distributed control values named `<key>-<row>-<col>` (1-based) as [nrow, ncol] maps, 0 elsewhere."""
    nrow, ncol = model.mesh.nrow, model.mesh.ncol
    maps = {}
    for name, v in zip(names, values):
        key, row, col = str(name).rsplit("-", 2)
        maps.setdefault(key, np.zeros((nrow, ncol), dtype=np.float32))[int(row) - 1, int(col) - 1] = v
    return maps


def dump_gradients(cdir: str, model) -> None:
    """smash's adjoint (Model.backward_run): with a cotangent on the discharge of every active cell, and on
    the default cost J, for distributed controls with the `keep` transform (∂/∂ per-cell physical values),
    and on J for uniform controls with the default `sbs` transform."""
    common = {"verbose": False, "ncpu": 1}
    distributed = {"parameters": GRAD_VARIABLES, "control_tfm": "keep"}
    names = smash.optimize_control_info(model, mapping="distributed", optimizer="lbfgsb",
                                        optimize_options=distributed)["name"]
    nrow, ncol, nt = model.mesh.nrow, model.mesh.ncol, model.setup.ntime_step
    # active cells in smash's order (column-major) and a smooth, cell- and step-dependent cotangent
    active = [(r, c) for c in range(ncol) for r in range(nrow) if model.mesh.active_cell[r, c]]
    t = np.arange(nt, dtype=np.float64)
    cot = np.stack([1e-3 * (1.0 + 0.5 * np.sin(0.05 * t + 0.3 * k)) for k in range(len(active))]).astype(np.float32)
    cot_map = np.zeros((nt, nrow, ncol), dtype=np.float32)
    for k, (r, c) in enumerate(active):
        cot_map[:, r, c] = cot[k]
    q_b = model.backward_run(diff_target="q", cotangent=cot, mapping="distributed", optimizer="lbfgsb",
                             optimize_options=distributed, return_options={"grad": True}, common_options=common)
    j_b = model.backward_run(mapping="distributed", optimizer="lbfgsb", optimize_options=distributed,
                             return_options={"grad": True, "cost": True}, common_options=common)
    u_info = smash.optimize_control_info(model, mapping="uniform")
    u_b = model.backward_run(mapping="uniform", return_options={"grad": True, "cost": True}, common_options=common)
    out = {"cotangent": cot_map, "j_cost": np.array([j_b.cost], dtype=np.float32),
           "uniform_x": f32(u_info["x"]), "uniform_grad": f32(u_b.grad)}
    out.update({f"q_{k}": v for k, v in control_maps(model, names, q_b.grad).items()})
    out.update({f"j_{k}": v for k, v in control_maps(model, names, j_b.grad).items()})
    save_file(out, os.path.join(cdir, "gradient.safetensors"),
              metadata={"uniform_names": ",".join(map(str, u_info["name"]))})


def dump_optimize(cdir: str, setup: dict, mesh: dict) -> None:
    """smash's calibrations with its defaults: uniform SBS (every iterate) and distributed L-BFGS-B
    (100 iterations), from the default parameters; wall-clock times in the metadata."""
    common = {"verbose": False, "ncpu": 1}
    out, meta = {}, {}
    for name, mapping, optimizer in [("sbs", "uniform", "sbs"), ("lbfgsb", "distributed", "lbfgsb")]:
        model = smash.Model(setup, mesh)
        iterates = {}

        def callback(iopt, iterates=iterates):
            iterates[int(iopt.n_iter)] = (np.array(iopt.control_vector, dtype=np.float64), float(iopt.cost))

        t0 = time.perf_counter()
        ret = model.optimize(mapping=mapping, optimizer=optimizer, common_options=common, callback=callback,
                             return_options={"cost": True, "n_iter": True})
        meta[f"{name}_seconds"] = f"{time.perf_counter() - t0:.3f}"
        meta[f"{name}_n_iter"] = str(int(ret.n_iter))
        its = [iterates[k] for k in sorted(iterates)]
        out[f"{name}_cost"] = np.array([ret.cost], dtype=np.float64)
        out[f"{name}_iter_cost"] = np.array([c for _, c in its], dtype=np.float64)
        if mapping == "uniform":
            out[f"{name}_iter_x"] = np.stack([x for x, _ in its])
        for p in ["cp", "ct", "kexc", "llr"]:
            out[f"{name}_{p}"] = f32(model.get_rr_parameters(p))
    save_file(out, os.path.join(cdir, "optimize.safetensors"), metadata=meta)


# multi-linear with smash's default descriptor_tfm (standardize); multi-power with "normalize": standardized
# descriptors are negative on some cells, where smash's D**b is NaN for b != 1
REGIONAL_MAPPINGS = [("ml", "multi-linear", "standardize"), ("mp", "multi-power", "normalize")]


def backward_at(model, mapping: str, x) -> tuple[np.ndarray, float, dict]:
    """smash's gradient of the default cost at control vector `x` (smash's transformed space): Model.backward_run
    with the control vector overwritten after smash fills it; returns (grad, cost at x, parameters at x)."""
    import smash.core.simulation.run.run as runmod
    from smash.fcore._mwd_parameters_manipulation import control_to_parameters

    fill, grad_of = runmod.wrap_parameters_to_control, runmod._get_parameters_b
    seen = {}

    def patched_fill(setup, mesh, input_data, parameters, options):
        fill(setup, mesh, input_data, parameters, options)
        parameters.control.x[:] = np.asarray(x, dtype=np.float32)
        seen.update(args=(setup, mesh, input_data, parameters, options))

    def patched_grad(model_, parameters, *rest):
        out = grad_of(model_, parameters, *rest)
        seen["cost"] = float(model_._output.cost)
        return out

    runmod.wrap_parameters_to_control, runmod._get_parameters_b = patched_fill, patched_grad
    try:
        ret = model.backward_run(mapping=mapping, optimizer="lbfgsb", return_options={"grad": True},
                                 common_options={"verbose": False, "ncpu": 1})
    finally:
        runmod.wrap_parameters_to_control, runmod._get_parameters_b = fill, grad_of
    setup, mesh, input_data, parameters, options = seen["args"]
    # the adjoint left the physical values in control.x; control_to_parameters inverts control_tfm itself
    parameters.control.x[:] = np.asarray(x, dtype=np.float32)
    control_to_parameters(setup, mesh, input_data, parameters, options)
    keys = [str(k) for k in parameters.rr_parameters.keys]
    maps = {k: f32(parameters.rr_parameters.values[:, :, i]) for i, k in enumerate(keys)}
    return np.asarray(ret.grad, dtype=np.float64), seen["cost"], maps


def dump_regional(cdir: str, setup: dict, mesh: dict) -> None:
    """Regionalization mappings on Cance: smash's first guess and bounds (L-BFGS-B space), gradients of the
    default cost at the first guess and at a perturbed control vector, the parameter maps there, and the
    multi-linear calibration with smash's defaults (L-BFGS-B, 100 iterations)."""
    out, meta = {}, {}
    for tag, mapping, tfm in REGIONAL_MAPPINGS:
        model = smash.Model({**setup, "descriptor_tfm": tfm}, mesh)
        info = smash.optimize_control_info(model, mapping=mapping, optimizer="lbfgsb")
        x0 = np.asarray(info["x"], dtype=np.float64)
        x1 = x0 + 0.3 * np.sin(np.arange(len(x0)) + 1.0)
        bounded = np.asarray(info["nbd"]) == 2
        x1[bounded] = np.clip(x1[bounded], 0.05, 0.95)
        x1 = x1.astype(np.float32).astype(np.float64)
        g0, j0, _ = backward_at(model, mapping, x0)
        g1, j1, maps = backward_at(model, mapping, x1)
        meta[f"{tag}_names"] = ",".join(map(str, info["name"]))
        out.update({f"{tag}_x0": x0, f"{tag}_x1": x1, f"{tag}_grad0": g0, f"{tag}_grad1": g1,
                    f"{tag}_cost": np.array([j0, j1], dtype=np.float64),
                    f"{tag}_l": np.asarray(info["l"], dtype=np.float64),
                    f"{tag}_u": np.asarray(info["u"], dtype=np.float64)})
        for k in ["cp", "ct", "kexc", "llr"]:
            out[f"{tag}_x1_{k}"] = maps[k]
    model = smash.Model(setup, mesh)
    t0 = time.perf_counter()
    ret = model.optimize(mapping="multi-linear", common_options={"verbose": False, "ncpu": 1},
                         return_options={"cost": True, "n_iter": True, "control_vector": True})
    meta["ml_optimize_seconds"] = f"{time.perf_counter() - t0:.3f}"
    meta["ml_optimize_n_iter"] = str(int(ret.n_iter))
    out["ml_optimize_cost"] = np.array([ret.cost], dtype=np.float64)
    out["ml_optimize_x"] = np.asarray(ret.control_vector, dtype=np.float64)
    save_file(out, os.path.join(cdir, "regional.safetensors"), metadata=meta)


def dump_hybrid(cdir: str, setup: dict, mesh: dict) -> str:
    """A hybrid structure (gr4_mlp, gr4_ode, gr4_ude) with non-zero network weights where it has a network
    (normal, sd 0.3, seed 5; biases sd 0.1): discharge, final states and cost of the forward run; smash's
    gradient of the default cost for distributed parameters (keep transform) and every network weight."""
    common = {"verbose": False, "ncpu": 1}
    model = smash.Model(setup, mesh)
    rng = np.random.default_rng(5)
    weights = [rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in model.get_nn_parameters_weight()]
    biases = [rng.normal(0.0, 0.1, b.shape).astype(np.float32) for b in model.get_nn_parameters_bias()]
    model.set_nn_parameters_weight(value=weights)
    model.set_nn_parameters_bias(value=biases)
    ret = model.forward_run(common_options=common, return_options={"cost": True})
    out = {"qsim": f32(model.response.q), "cost": np.array([ret.cost], dtype=np.float64)}
    for k, (w, b) in enumerate(zip(weights, biases)):
        out[f"weight_{k + 1}"], out[f"bias_{k + 1}"] = w, b
    for p in ["ci", "cp", "ct", "kexc", "llr"]:
        out[p] = f32(model.get_rr_parameters(p))
    for st in ["hi", "hp", "ht", "hlr"]:
        out[f"final_{st}"] = f32(model.get_rr_final_states(st))
    options = {"parameters": ["cp", "ct", "kexc", "llr"] + [f"{t}_{k + 1}" for k in range(len(weights))
                                                          for t in ("weight", "bias")], "control_tfm": "keep"}
    info = smash.optimize_control_info(model, mapping="distributed", optimizer="lbfgsb", optimize_options=options)
    names = [str(n) for n in info["name"]]
    g = model.backward_run(mapping="distributed", optimizer="lbfgsb", optimize_options=options,
                           return_options={"grad": True, "cost": True}, common_options=common)
    out["grad"] = np.asarray(g.grad, dtype=np.float64)
    save_file(out, os.path.join(cdir, "hybrid.safetensors"), metadata={"grad_names": ",".join(names)})
    return f"J = {ret.cost:.7f}; {len(names)} controls"


INITIALIZERS = ["zeros", "uniform", "normal", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"]


def dump_tutorial(cdir: str, setup: dict, mesh: dict) -> str:
    """smash's hybrid tutorial on Lez (user_guide/in_depth/hybrid_process_parameterization): gr4_mlp with 12
    hidden neurons, pretraining of cp, ct, kexc, llr (uniform SBS, 2 iterations), weights he_uniform seed 23
    scaled by 0.1, then L-BFGS-B (100 iterations) on everything; costs and timings of both stages. Also
    the values of every initializer (weights seed 11, biases seed 12) for the network."""
    common = {"verbose": False, "ncpu": 1}
    out, meta = {}, {}
    model = smash.Model(setup, mesh)
    for name in INITIALIZERS:
        model.set_nn_parameters_weight(initializer=name, random_state=11)
        model.set_nn_parameters_bias(initializer=name, random_state=12)
        for k, (w, b) in enumerate(zip(model.get_nn_parameters_weight(), model.get_nn_parameters_bias())):
            # copies: smash returns views of its Fortran arrays, which the next call overwrites
            out[f"init_{name}_weight_{k + 1}"], out[f"init_{name}_bias_{k + 1}"] = w.copy(), b.copy()
    model.set_nn_parameters_weight(initializer="zeros")
    model.set_nn_parameters_bias(initializer="zeros")
    options = smash.default_optimize_options(model)
    options["parameters"] = [p for p in options["parameters"] if "weight" not in p and "bias" not in p]
    options["termination_crit"]["maxiter"] = 2
    t0 = time.perf_counter()
    pre = model.optimize(optimize_options=options, common_options=common, return_options={"cost": True})
    t1 = time.perf_counter()
    model.set_nn_parameters_weight(initializer="he_uniform", random_state=23)
    model.set_nn_parameters_weight([w * 0.1 for w in model.get_nn_parameters_weight()])
    for k, w in enumerate(model.get_nn_parameters_weight()):
        out[f"start_weight_{k + 1}"] = w.copy()
    t2 = time.perf_counter()
    fine = model.optimize(optimizer="lbfgsb", common_options=common,
                          return_options={"cost": True, "n_iter": True})
    t3 = time.perf_counter()
    out["pretrain_cost"] = np.array([pre.cost], dtype=np.float64)
    out["cost"] = np.array([fine.cost], dtype=np.float64)
    meta.update(pretrain_seconds=f"{t1 - t0:.3f}", finetune_seconds=f"{t3 - t2:.3f}", n_iter=str(int(fine.n_iter)))
    save_file(out, os.path.join(cdir, "tutorial.safetensors"), metadata=meta)
    return f"pretraining J = {pre.cost:.6f} ({t1 - t0:.1f} s), fine-tuning J = {fine.cost:.6f} ({t3 - t2:.1f} s)"


# the ann regionalization of tests/reference_ann.rs: smash's default graph, adam
ANN_OPTIONS = {"random_state": 11, "learning_rate": 0.01, "termination_crit": {"maxiter": 60}}
ANN_GAUGES = ["V3524010", "V3517010"]


def dump_ann(cdir: str, setup: dict, mesh: dict) -> str:
    """smash's ann mapping on Cance (default graph, glorot_uniform seed 11, adam lr 0.01, 60 iterations)
    trained on two gauges: the cost at every iteration (smash's callback), the final cost and the time."""
    model = smash.Model(setup, mesh)
    costs = []
    t0 = time.perf_counter()
    ret = model.optimize(mapping="ann", optimize_options=ANN_OPTIONS, cost_options={"gauge": ANN_GAUGES},
                         common_options={"verbose": False, "ncpu": 1}, return_options={"cost": True},
                         callback=lambda iopt: costs.append(float(iopt.cost)))
    seconds = time.perf_counter() - t0
    out = {"iter_cost": np.asarray(costs, dtype=np.float64), "cost": np.array([ret.cost], dtype=np.float64)}
    save_file(out, os.path.join(cdir, "ann.safetensors"), metadata={"seconds": f"{seconds:.3f}"})
    return f"ann: J {costs[0]:.5f} (iteration 1) -> {ret.cost:.5f} in {seconds:.1f} s"


def build_case(case: str, out_dir: str, cache: dict) -> str:
    ds, routing, kind = CASES[case]
    cdir = os.path.join(out_dir, case)
    if os.path.exists(cdir):
        shutil.rmtree(cdir)
    os.makedirs(cdir)

    if ds not in cache:
        cache[ds] = dataset_mesh(ds)
    mesh, ga_path = cache[ds]
    mt, mm = mesh_tensors(mesh)
    save_file(mt, os.path.join(cdir, "mesh.safetensors"), metadata=mm)
    mesh_src = {"gauge_attributes": ga_path} if ga_path else {"bbox": FRANCE_BBOX}

    setup = dataset_setup(ds, routing)
    info = f"mesh {mm['nrow']}x{mm['ncol']} nac={mm['nac']} npar={mm['npar']} gauges=[{mm['code']}]"

    if kind == "mesh_only":
        write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
        return info

    if kind == "states":
        # an ungauged domain: no discharge nor cost, but every cell's parameters and final states
        model = smash.Model(setup, mesh)
        model.forward_run(common_options={"verbose": False, "ncpu": 1})
        fwd = {p: f32(model.get_rr_parameters(p)) for p in ["ci", "cp", "ct", "kexc"] + ROUTING_PARAMS[routing]}
        fwd.update({s: f32(model.get_rr_final_states(s)) for s in ["hi", "hp", "ht"] + ROUTING_STATES[routing]})
        save_file(fwd, os.path.join(cdir, "forward.safetensors"))
        write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
        return info + f"; T={model.setup.ntime_step}; parameters and final states {list(fwd)}"

    if kind == "cost":
        return build_cost_case(cdir, setup, mesh, mesh_src, cache) + "; " + info

    if kind == "ann":
        write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
        return info + "; " + dump_ann(cdir, setup, mesh)

    if kind == "tutorial":
        setup.update(hydrological_module="gr4_mlp", hidden_neuron=12)
        write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
        return info + "; " + dump_tutorial(cdir, setup, mesh)

    if kind == "hybrid":
        module, hidden = HYBRID[case]
        setup["hydrological_module"] = module
        if hidden is not None:
            setup["hidden_neuron"] = hidden
        write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
        return info + "; " + dump_hybrid(cdir, setup, mesh)

    missing = "error"
    if kind == "gaps":
        key = ("base_model", ds)
        if key not in cache:
            cache[key] = run_forward(dataset_setup(ds, "lr"), mesh)[0]
        desc = make_gaps_prcp(cdir, setup, mesh, cache[key])
        setup["prcp_directory"] = os.path.join(os.path.realpath(cdir), "prcp")
        missing = "as_missing"
        info += f"; gaps: steps {desc['gap_steps']} removed ({desc['removed']} files), patches " + ", ".join(
            f"step {p['step']} ({p['patch']})" for p in desc["patches"]
        )

    model, cost = run_forward(setup, mesh)
    if kind == "grad":
        dump_gradients(cdir, model)
    if kind == "optimize":
        dump_optimize(cdir, setup, mesh)
    if kind == "regional":
        dump_regional(cdir, setup, mesh)
    if kind == "forward" and routing == "lr":
        cache[("base_model", ds)] = model
    shapes = dump_forward(cdir, model, cost, routing)
    write_config(os.path.join(cdir, "config.toml"), setup, mesh_src, missing)
    return info + f"; T={model.setup.ntime_step} shapes={shapes}; J={cost:.7f}"


# ----------------------------------------------------------------------------------------------------------
# cance_cost: smash's cost, metrics, signatures and event segmentation on one forward run
# ----------------------------------------------------------------------------------------------------------

# cost_options combinations for `J` (together they cover every jobs_cmpt; see tests/reference_cost.rs)
COST_OPTIONS = [
    {},
    {"jobs_cmpt": ["nse", "nnse", "kge", "mae"], "wjobs_cmpt": [0.4, 0.3, 0.2, 0.1], "gauge": "all"},
    {
        "jobs_cmpt": ["mape", "mse", "rmse", "lgrm"],
        "gauge": ["V3517010", "V3515010"],
        "wgauge": [0.7, 0.3],
        "end_warmup": "2014-10-01 00:00",
    },
    {"jobs_cmpt": ["nse", "kge", "rmse"], "jobs_cmpt_tfm": ["sqrt", "inv", "sqrt"], "gauge": "all"},
    {"jobs_cmpt": "nse", "jobs_cmpt_tfm": "inv", "gauge": "all", "wgauge": "median"},
    {"jobs_cmpt": ["Crc", "Crchf", "Crclf", "Crch2r"], "gauge": "all", "wgauge": "lquartile"},
    {
        "jobs_cmpt": ["Cfp2", "Cfp10", "Cfp50", "Cfp90", "kge"],
        "gauge": "all",
        "wgauge": "uquartile",
        "end_warmup": "2014-10-15 12:00",
    },
    {"jobs_cmpt": ["Eff", "Ebf", "Erc", "Erchf"], "gauge": "all"},
    {"jobs_cmpt": ["Erclf", "Erch2r", "Elt", "Epf"], "gauge": "all", "wjobs_cmpt": [1, 2, 0.5, 0.25]},
    {
        "jobs_cmpt": ["nse", "Epf", "Crc", "Erc"],
        "jobs_cmpt_tfm": ["sqrt", "keep", "keep", "keep"],
        "gauge": ["V3524010", "V3515010"],
        "wgauge": [2, 1],
        "end_warmup": "2014-10-20 00:00",
        "event_seg": {"peak_quant": 0.99, "max_duration": 120},
    },
    {"jobs_cmpt": ["nse", "kge"], "wjobs_cmpt": "median", "gauge": "V3515010"},
    {"jobs_cmpt": ["Epf", "lgrm"], "gauge": "all", "wgauge": "median", "end_warmup": "2014-11-01 00:00"},
]

COST_METRICS = ["nse", "nnse", "kge", "mae", "mape", "mse", "rmse", "lgrm"]
CONT_SIGNS = ["Crc", "Crchf", "Crclf", "Crch2r", "Cfp2", "Cfp10", "Cfp50", "Cfp90"]
EVENT_SIGNS = ["Eff", "Ebf", "Erc", "Erchf", "Erclf", "Erch2r", "Elt", "Epf"]


def build_cost_case(cdir: str, setup: dict, mesh: dict, mesh_src: dict, cache: dict) -> str:
    from smash.core.signal_analysis.segmentation._tools import _mask_event

    key = ("base_model", "Cance")
    model = cache[key] if key in cache else run_forward(setup, mesh)[0]
    cache[key] = model
    codes = [str(c) for c in model.mesh.code]
    common = {"verbose": False, "ncpu": 1}

    t = {
        "qobs": f32(model.response_data.q),  # [G, T]
        "qsim": f32(model.response.q),
        "mean_prcp": f32(model.atmos_data.mean_prcp),
        "area_dln": f32(model.mesh.area_dln),
        "evaluation": np.ascontiguousarray(smash.evaluation(model, metric=COST_METRICS), dtype=np.float64),
    }
    info = _mask_event(model=model, gauge=np.array(codes))
    t["mask_event"] = np.ascontiguousarray(info["mask"], dtype=np.int32)

    st = pd.Timestamp(model.setup.start_time)
    dt = float(model.setup.dt)
    for domain in ("obs", "sim"):
        sig = smash.signatures(model, gauge="all", domain=domain)
        cont = sig.cont.set_index("code").loc[codes, CONT_SIGNS].to_numpy(dtype=np.float64)
        t[f"cont_{domain}"] = np.ascontiguousarray(cont)
        ev = sig.event[sig.event["start"].notna()]
        t[f"event_{domain}"] = np.ascontiguousarray(ev[EVENT_SIGNS].to_numpy(dtype=np.float64))
        if domain == "obs":
            steps = lambda col: [int((pd.Timestamp(v) - st).total_seconds() // dt) for v in ev[col]]  # noqa: E731
            t["event_gauge"] = np.array([codes.index(c) for c in ev["code"]], dtype=np.int32)
            t["event_start"] = np.array(steps("start"), dtype=np.int32)
            t["event_end"] = np.array(steps("end"), dtype=np.int32)

    costs = []
    for opts in COST_OPTIONS:
        ret = model.forward_run(
            cost_options=json.loads(json.dumps(opts)), common_options=common, return_options={"cost": True}
        )
        costs.append(float(ret.cost))
    t["cost"] = np.array(costs, dtype=np.float32)
    save_file(t, os.path.join(cdir, "cost.safetensors"), metadata={"code": ",".join(codes), "cost_options": json.dumps(COST_OPTIONS)})
    write_config(os.path.join(cdir, "config.toml"), setup, mesh_src)
    return f"{len(ev)} events, J = {', '.join(f'{c:.6g}' for c in costs)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden"), help="output directory")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ",".join(CASES))
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = ap.parse_args()

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choices: {list(CASES)}")

    out_dir = os.path.realpath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    log(f"smash {smash.__version__} from {DATASET}; output {out_dir}")
    cache: dict = {}
    t_all = time.perf_counter()
    for case in cases:
        if not args.force and up_to_date(case, out_dir):
            log(f"{case}: up to date, skipped")
            continue
        t0 = time.perf_counter()
        info = build_case(case, out_dir, cache)
        with open(os.path.join(out_dir, case, ".stamp"), "w") as f:
            json.dump(stamp_for(case, out_dir), f, indent=1)
        log(f"{case}: written in {time.perf_counter() - t0:.1f} s: {info}")
    log(f"done in {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
