#!/usr/bin/env bash
# MPI scaling of search stages on smash's Cance dataset (docs/scaling.md): SCE-UA and PSO, 3000 evaluations
# each, on 1, 2 and 4 ranks of one thread each (4 oversubscribed on a 2-core machine), and one process with
# every core for comparison. Prints one line per run: wall seconds, speed-up, efficiency, and the MPI counts.
#
#   cargo build --release --features mpi
#   HYDROGRAD_GOLDEN_DIR=~/.cache/hydrograd/golden bash benches/mpi_scaling.sh [target/release/hydrograd]
set -euo pipefail
EXE="${1:-target/release/hydrograd}"
EXE="$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")"
GOLDEN="${HYDROGRAD_GOLDEN_DIR:?set HYDROGRAD_GOLDEN_DIR (bash tests/run_all.sh writes it)}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores="$(nproc)"

stage() {
    case "$1" in
        sceua) printf '[[train.stage]]\nmapping = "uniform"\noptimizer = "sceua"\n[train.stage.optimize_options]\nmax_evaluations = 3000\nrandom_state = 1\nngs = 20\nkstop = 1000\n' ;;
        pso) printf '[[train.stage]]\nmapping = "uniform"\noptimizer = "pso"\n[train.stage.optimize_options]\nmax_evaluations = 3000\nrandom_state = 1\nswarm_size = 40\n' ;;
    esac
}

for method in sceua pso; do
    { cat "$GOLDEN/cance/config.toml"; echo; stage "$method"; } > "$WORK/$method.toml"
    base=""
    for run in "1 1" "1 $cores" "2 1" "4 1"; do
        set -- $run
        ranks=$1 threads=$2
        out="$WORK/out-$method-$ranks-$threads"
        launcher=()
        [ "$ranks" -gt 1 ] && launcher=(mpirun --oversubscribe --bind-to none -np "$ranks" -x RAYON_NUM_THREADS)
        start=$(date +%s.%N)
        log=$(RAYON_NUM_THREADS=$threads HYDROGRAD_CACHE_DIR="$WORK/cache-$method-$ranks-$threads" \
            "${launcher[@]}" "$EXE" train "$WORK/$method.toml" --out "$out" 2>/dev/null)
        wall=$(echo "$(date +%s.%N) - $start" | bc -l)
        [ -z "$base" ] && base=$wall
        speedup=$(echo "$base / $wall" | bc -l)
        workers=$((ranks * threads))
        printf '%-5s ranks %d × threads %d: %6.2f s  speed-up %.2f  efficiency %.2f  %s\n' "$method" "$ranks" "$threads" \
            "$wall" "$speedup" "$(echo "$speedup / $workers" | bc -l)" \
            "$(echo "$log" | grep -E '^MPI: sets' | sed 's/^MPI: //' || true)"
    done
done
