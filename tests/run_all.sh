#!/usr/bin/env bash
# Run all hydrograd tests, including the comparisons against the reference implementation smash.
#
#   bash tests/run_all.sh
#
# Installs what it needs and reuses what is already there:
#   - Debian packages (apt-get) only if something is missing: python3, python3-venv, gcc/libc6-dev, chromium,
#     Mesa's software Vulkan driver (mesa-vulkan-drivers, libvulkan1: lavapipe) for the GPU kernels, and
#     OpenMPI (openmpi-bin, libopenmpi-dev, libclang-dev, clang) for the MPI engine
#   - a Python venv at ${HYDROGRAD_VENV:-<repo>/.venv} with hydro-smash==1.3.0, spotpy, safetensors, pyarrow
#     (pip runs only when they are not importable)
#   - golden reference files from smash in ${HYDROGRAD_GOLDEN_DIR:-<repo>/tests/golden}
#     (tests/reference/make_golden.py skips cases that are up to date)
# then runs `cargo test --workspace --release --features wgpu,mpi` (the GPU engine's tests run on lavapipe, the MPI
# tests under mpirun with 2 and 4 ranks; CARGO_TARGET_DIR
# is respected) and type-checks the CUDA engine offline (`DOCS_RS=1 cargo check --features cuda`: burn's CUDA
# runtime downloads LLVM at build time, which DOCS_RS skips).
# smash is required: if it cannot be installed the script fails; nothing is skipped.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HYDROGRAD_VENV:-$REPO/.venv}"
GOLDEN="${HYDROGRAD_GOLDEN_DIR:-$REPO/tests/golden}"
SMASH_PIN="hydro-smash==1.3.0"
PY_PKGS=("$SMASH_PIN" spotpy safetensors pyarrow)

say() { printf '[run_all] %s\n' "$*" >&2; }
die() { printf '[run_all] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# 1. system packages (only when missing)
# ---------------------------------------------------------------------------------------------------------
missing_debs=()
command -v python3 >/dev/null 2>&1 || missing_debs+=(python3)
if command -v python3 >/dev/null 2>&1; then
    # `python3 -m venv` needs ensurepip, which Debian ships in python3-venv
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing_debs+=(python3-venv)
else
    missing_debs+=(python3-venv)
fi
command -v cc >/dev/null 2>&1 || missing_debs+=(gcc libc6-dev)
# headless browser for tests/report_browser.rs
command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
# Vulkan loader and lavapipe (Mesa's CPU Vulkan driver) for tests of the GPU engine without a GPU
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 \
    || missing_debs+=(mesa-vulkan-drivers)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || missing_debs+=(libvulkan1)
# OpenMPI for the MPI engine (`--features mpi`, tests/cli_mpi.rs: mpirun -np 2 and 4); rsmpi's bindings need
# libclang at build time
command -v mpirun >/dev/null 2>&1 || missing_debs+=(openmpi-bin)
[ -e /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h ] || pkg-config --exists ompi 2>/dev/null \
    || missing_debs+=(libopenmpi-dev)
ldconfig -p 2>/dev/null | grep -q 'libclang' || missing_debs+=(libclang-dev clang)

if ((${#missing_debs[@]})); then
    say "missing system packages: ${missing_debs[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${missing_debs[*]} by hand"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo; install ${missing_debs[*]} by hand"
        SUDO=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update </dev/null || die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing_debs[@]}" </dev/null \
        || die "apt-get install ${missing_debs[*]} failed"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust >= 1.90, e.g. via rustup)"

# ---------------------------------------------------------------------------------------------------------
# 2. Python venv with smash (only when not importable)
# ---------------------------------------------------------------------------------------------------------
PY="$VENV/bin/python"
if [ -x "$PY" ] && "$PY" -c 'import sys' >/dev/null 2>&1; then
    say "reusing venv $VENV"
else
    say "creating venv $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" </dev/null || die "python3 -m venv $VENV failed"
fi

check_py() {
    "$PY" - <<'EOF' >/dev/null 2>&1
import smash, spotpy, safetensors.numpy, pyarrow
assert smash.__version__ == "1.3.0", smash.__version__
EOF
}
if check_py; then
    say "smash $("$PY" -c 'import smash; print(smash.__version__)') already installed"
else
    say "pip install ${PY_PKGS[*]}"
    "$PY" -m pip install --disable-pip-version-check --no-input --upgrade pip </dev/null >&2 \
        || say "warning: pip self-upgrade failed (continuing)"
    "$PY" -m pip install --disable-pip-version-check --no-input --prefer-binary "${PY_PKGS[@]}" </dev/null >&2 \
        || die "pip install ${PY_PKGS[*]} failed: smash is required for the reference tests"
    check_py || die "smash 1.3.0 / spotpy / safetensors still not importable from $PY after pip install"
fi

# ---------------------------------------------------------------------------------------------------------
# 3. golden reference files
# ---------------------------------------------------------------------------------------------------------
"$PY" "$REPO/tests/reference/make_golden.py" --out "$GOLDEN" </dev/null \
    || die "tests/reference/make_golden.py failed"

export HYDROGRAD_GOLDEN_DIR="$GOLDEN"
export HYDROGRAD_PYTHON="$PY"
export HYDROGRAD_VENV="$VENV"

# ---------------------------------------------------------------------------------------------------------
# 4. Rust tests
# ---------------------------------------------------------------------------------------------------------
if [ -n "${HYDROGRAD_SKIP_CARGO:-}" ]; then
    say "HYDROGRAD_SKIP_CARGO set: not running cargo test"
    exit 0
fi
cd "$REPO"
# Mesa's drivers want a runtime directory; a CI shell may not have one
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
    export XDG_RUNTIME_DIR="$(mktemp -d)"
fi
say "DOCS_RS=1 cargo check --features cuda (type-checks the CUDA engine offline)"
DOCS_RS=1 cargo check --release -p hydrograd --features cuda </dev/null || die "the CUDA engine does not type-check"
say "cargo test --workspace --release --features wgpu,mpi (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-<default>})"
exec cargo test --workspace --release --features hydrograd/wgpu,hydrograd-kernels/wgpu,hydrograd/mpi "$@" </dev/null
