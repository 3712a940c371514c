//! `mpirun -np R hydrograd train` on smash's Cance dataset (30 days): the run store and the calibrated maps
//! of 2 and 4 ranks (4 oversubscribed on CI's 2 cores) are those of one process, through search stages of
//! both schedulings, a gradient stage on rank 0 between them and a multi-objective stage; a worker killed
//! mid-run (the job ends, and the same command resumes it; with `--enable-recovery` the run finishes
//! without it); an evaluation that hangs or fails (`HYDROGRAD_FAULT`: re-issued, and the run ends cleanly).
//!
//! Needs OpenMPI's `mpirun` (the test command installs it) and the `mpi` feature (`required-features`).

#[path = "support/cance30.rs"]
mod cance30;
mod common;
#[path = "support/samples.rs"]
mod store;
#[path = "support/trace.rs"]
mod trace;

use cance30::cance_30_days;
use safetensors::SafeTensors;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};
use store::{Row, samples};
use trace::trace;

const NAMES: [&str; 4] = ["cp", "ct", "kexc", "llr"];

/// Every stage kind: SCE-UA (generation scheduling), L-BFGS-B on rank 0, NSGA-II on two objectives, then
/// Monte Carlo in chunks of 7 (dynamic scheduling).
const STAGES: &str = r#"
[mpi]
chunk = 7

[[train.stage]]
mapping = "uniform"
optimizer = "sceua"
[train.stage.optimize_options]
max_evaluations = 400
random_state = 7
ngs = 6

[[train.stage]]
mapping = "uniform"
optimizer = "lbfgsb"
[train.stage.optimize_options]
termination_crit = { maxiter = 3 }

[[train.stage]]
mapping = "uniform"
optimizer = "nsgaii"
[train.stage.optimize_options]
max_evaluations = 48
random_state = 5
n_pop = 12
objectives = ["nse", "pbias"]

[[train.stage]]
mapping = "uniform"
optimizer = "mc"
[train.stage.optimize_options]
max_evaluations = 150
random_state = 3
"#;

/// One SCE-UA stage long enough (≈ 10 s on one process) to be interrupted after its first store part;
/// an answer later than 1 s (the median evaluation takes milliseconds) is overdue.
const LONG: &str = r#"
[mpi]
run_timeout_min = 1.0

[[train.stage]]
mapping = "uniform"
optimizer = "sceua"
[train.stage.optimize_options]
max_evaluations = 2000
random_state = 11
ngs = 8
"#;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    /// smash's Cance configuration over its first 30 days with `stages`, in a fresh folder.
    fn new(stages: &str) -> Case {
        Case { dir: cance_30_days(stages) }
    }

    /// smash's Cance configuration over 30 days in f64 with its two upstream gauges only (V3515010 and
    /// V3517010: two separate catchments), with `stages`.
    fn two_catchments(stages: &str) -> Case {
        let case = Case::new(stages);
        let path = case.path("cance.toml");
        let text = fs::read_to_string(&path).unwrap();
        let attributes = text.lines().find_map(|l| l.strip_prefix("gauge_attributes = ")).unwrap().trim_matches('"');
        let gauges: Vec<String> = fs::read_to_string(attributes)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("V3524010"))
            .map(String::from)
            .collect();
        assert_eq!(gauges.len(), 3, "the header and the two upstream gauges");
        fs::write(case.path("gauges.csv"), gauges.join("\n") + "\n").unwrap();
        let text = text
            .replace(&format!("gauge_attributes = \"{attributes}\""), "gauge_attributes = \"gauges.csv\"")
            .replace("[setup]\n", "[setup]\nprecision = \"f64\"\n");
        fs::write(&path, text).unwrap();
        case
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `hydrograd train cance.toml --out <out>` on one process (`ranks = 1`, no launcher) or under
    /// `mpirun -np <ranks>` with `launcher` options; each output folder has its own evaluation cache.
    fn command(&self, ranks: usize, out: &str, launcher: &[&str]) -> Command {
        let exe = env!("CARGO_BIN_EXE_hydrograd");
        let mut c = if ranks == 1 {
            Command::new(exe)
        } else {
            let mut c = Command::new("mpirun");
            c.args(["--oversubscribe", "--bind-to", "none", "-np", &ranks.to_string()]).args(launcher).arg(exe);
            c.env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            c
        };
        c.args(["train", "cance.toml", "--out", out])
            .current_dir(self.dir.path())
            .env("HYDROGRAD_CACHE_DIR", self.path(&format!("cache-{out}")));
        c
    }

    /// Runs [`command`](Self::command) to the end (at most 5 minutes).
    fn run(&self, ranks: usize, out: &str, launcher: &[&str]) -> Output {
        let child = self
            .command(ranks, out, launcher)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        finish(child, Duration::from_secs(300))
    }

    /// Every row of the run store of `out`.
    fn store(&self, out: &str) -> Vec<Row> {
        samples(&self.path(&format!("{out}/samples")), &NAMES)
    }

    /// Starts the run of `out` on `ranks` ranks, waits for its first store part, then sends `signal` to
    /// rank 2; returns the running `mpirun`.
    fn signal_worker_mid_run(&self, ranks: usize, out: &str, launcher: &[&str], signal: &str) -> Child {
        let mut child = self
            .command(ranks, out, launcher)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let parts = || {
            fs::read_dir(self.path(&format!("{out}/samples"))).map_or(0, |d| {
                d.filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().starts_with("part-")).count()
            })
        };
        while parts() == 0 {
            assert!(child.try_wait().unwrap().is_none(), "the run ended before its first store part");
            assert!(start.elapsed() < Duration::from_secs(120), "no store part written");
            std::thread::sleep(Duration::from_millis(5));
        }
        let pid = rank_pid(self.dir.path(), 2).expect("rank 2 runs in the case's folder");
        let status = Command::new("kill").args([signal, &pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
        assert!(child.try_wait().unwrap().is_none(), "the run went on until rank 2 was signalled");
        child
    }
}

/// Waits for `child` at most `limit` (then kills it and fails), with its output.
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the run did not end within {limit:?}: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "hydrograd panicked:\n{stderr}");
    out
}

/// The process of MPI rank `rank` whose working folder is `dir`.
fn rank_pid(dir: &Path, rank: usize) -> Option<u32> {
    let wanted = format!("OMPI_COMM_WORLD_RANK={rank}");
    let dir = dir.canonicalize().unwrap();
    fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()).find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cwd = fs::read_link(e.path().join("cwd")).ok()?;
        let environ = fs::read(e.path().join("environ")).ok()?;
        let is_rank = environ.split(|&b| b == 0).any(|v| v == wanted.as_bytes());
        (cwd == dir && is_rank).then_some(pid)
    })
}

/// The `[nrow, ncol]` maps of `parameters.safetensors`, as bits (NaN outside the mesh compares equal).
fn maps(path: &Path) -> Vec<(String, Vec<u32>)> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| (name, v.data().chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect()))
        .collect();
    out.sort();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `[a, b, ...]` of the line `MPI: sets evaluated per rank [...]`.
fn sets_per_rank(stdout: &str) -> Vec<usize> {
    let line = stdout.lines().find_map(|l| l.strip_prefix("MPI: sets evaluated per rank [")).expect("the MPI summary");
    line.split(']').next().unwrap().split(", ").map(|v| v.parse().unwrap()).collect()
}

#[test]
fn two_and_four_ranks_give_the_store_and_maps_of_one_process() {
    let case = Case::new(STAGES);
    let one = case.run(1, "np1", &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let reference = case.store("np1");
    assert_eq!(reference.len(), 400 + 48 + 150, "every search evaluation is a row");
    assert!(reference.iter().all(|r| f64::from_bits(r.cost).is_finite()));
    // a set the method proposes twice is evaluated once (the evaluation cache)
    let evaluated = reference.iter().filter(|r| !r.cached).count();
    let reference_maps = maps(&case.path("np1/parameters.safetensors"));
    let stages = |text: &str| text.lines().filter(|l| l.starts_with("stage ")).map(String::from).collect::<Vec<_>>();
    for ranks in [2, 4] {
        let out = format!("np{ranks}");
        let o = case.run(ranks, &out, &[]);
        assert!(o.status.success(), "{ranks} ranks:\n{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(&format!("MPI: {ranks} ranks")), "{text}");
        let per_rank = sets_per_rank(&text);
        assert_eq!(per_rank.len(), ranks);
        assert!(per_rank.iter().all(|&n| n > 0), "every rank evaluated sets: {per_rank:?}");
        assert_eq!(per_rank.iter().sum::<usize>(), evaluated, "each set evaluated once");
        assert_eq!(case.store(&out), reference, "{ranks} ranks: the same rows, bit for bit");
        assert_eq!(maps(&case.path(&format!("{out}/parameters.safetensors"))), reference_maps);
        assert_eq!(stages(&text), stages(&stdout(&one)), "the same stage summaries");
    }
}

#[test]
fn a_killed_worker_ends_the_job_and_the_same_command_resumes_it() {
    let case = Case::new(LONG);
    let one = case.run(1, "np1", &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let reference = case.store("np1");
    assert_eq!(reference.len(), 2000);

    // without recovery, OpenMPI ends the whole job when a rank dies
    let child = case.signal_worker_mid_run(3, "killed", &[], "-KILL");
    let o = finish(child, Duration::from_secs(120));
    assert!(!o.status.success(), "mpirun reports the lost rank");
    let partial = case.store("killed");
    assert!(!partial.is_empty() && partial.len() < 2000, "{} rows kept", partial.len());
    let resumed = case.run(3, "killed", &[]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(stdout(&resumed).contains("resuming"), "{}", stdout(&resumed));
    let strip = |rows: Vec<Row>| rows.into_iter().map(|r| Row { cached: false, ..r }).collect::<Vec<_>>();
    assert_eq!(strip(case.store("killed")), strip(reference.clone()), "every evaluation once, as one process made it");

    // with recovery, rank 0 re-issues the dead rank's chunk once it is overdue and finishes the run
    let child = case.signal_worker_mid_run(3, "recovered", &["--enable-recovery"], "-KILL");
    let o = finish(child, Duration::from_secs(180));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("rank 2 is overdue"), "{}", stderr(&o));
    assert_eq!(case.store("recovered"), reference);
    assert_eq!(maps(&case.path("recovered/parameters.safetensors")), maps(&case.path("np1/parameters.safetensors")));
}

#[test]
fn an_evaluation_that_hangs_or_fails_is_reissued_and_the_run_ends() {
    let case = Case::new(LONG);
    let one = case.run(1, "np1", &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let reference = case.store("np1");
    let evaluated = reference.iter().filter(|r| !r.cached).count();
    for (fault, ranks, expected) in
        [("hang@2:5", 3, "rank 2 is overdue on sets"), ("error@1:3", 2, "HYDROGRAD_FAULT: injected error on rank 1")]
    {
        let out = fault.replace(['@', ':'], "-");
        let mut command = case.command(ranks, &out, &["-x", "HYDROGRAD_FAULT"]);
        let child = command
            .env("HYDROGRAD_FAULT", fault)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let o = finish(child, Duration::from_secs(180));
        let err = stderr(&o);
        assert!(o.status.success(), "{fault}:\n{err}");
        assert!(err.contains(expected), "{fault}:\n{err}");
        assert!(!err.contains("did not answer"), "{fault}: every rank confirms the end, the hung one too:\n{err}");
        assert_eq!(case.store(&out), reference, "{fault}: the re-issued chunk gave the same values");
        assert_eq!(
            maps(&case.path(&format!("{out}/parameters.safetensors"))),
            maps(&case.path("np1/parameters.safetensors"))
        );
        let per_rank = sets_per_rank(&stdout(&o));
        assert_eq!(
            per_rank.iter().sum::<usize>(),
            evaluated,
            "{fault}: {per_rank:?}: each set counted once, where it was evaluated"
        );
    }
}

#[test]
fn the_demo_sceua_example_runs_on_two_ranks_as_on_one() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/demo_sceua.toml");
    let dir = tempfile::tempdir().unwrap();
    let run = |ranks: usize| {
        let out = dir.path().join(format!("np{ranks}"));
        let exe = env!("CARGO_BIN_EXE_hydrograd");
        let mut c = if ranks == 1 { Command::new(exe) } else { Command::new("mpirun") };
        if ranks > 1 {
            c.args(["--oversubscribe", "--bind-to", "none", "-np", &ranks.to_string(), exe]);
            c.env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        }
        c.arg("train")
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .env("HYDROGRAD_CACHE_DIR", dir.path().join(format!("cache{ranks}")));
        let o = finish(
            c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap(),
            Duration::from_secs(300),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        samples(&out.join("samples"), &NAMES)
    };
    let one = run(1);
    assert_eq!(one.len(), 3000);
    assert_eq!(run(2), one);
}

#[test]
fn multi_catchment_training_over_ranks_follows_the_single_process_path() {
    // a regionalization (multi-linear on slope and dd) trained on both catchments at once, then a search
    let case = Case::two_catchments(
        r#"
[cost_options]
gauge = "all"

[[train.stage]]
mapping = "multi-linear"
optimizer = "lbfgsb"
[train.stage.optimize_options]
termination_crit = { maxiter = 6 }

[[train.stage]]
mapping = "uniform"
optimizer = "mc"
[train.stage.optimize_options]
max_evaluations = 40
random_state = 2
"#,
    );
    let one = case.run(1, "np1", &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let reference = trace(&case.path("np1/trace.parquet"));
    assert!(reference.len() >= 4, "{reference:?}");
    let reference_maps = maps(&case.path("np1/parameters.safetensors"));
    for ranks in [2, 3] {
        let out = format!("np{ranks}");
        let o = case.run(ranks, &out, &[]);
        assert!(o.status.success(), "{ranks} ranks:\n{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("MPI: stage 1: catchments spread over {ranks} ranks")), "{}", stderr(&o));
        // the costs and gradients differ from one process by the order of their sums only (f64)
        let got = trace(&case.path(&format!("{out}/trace.parquet")));
        assert_eq!(got.len(), reference.len(), "{ranks} ranks: the same iterations");
        for (a, b) in got.iter().zip(&reference) {
            assert_eq!((a.0, a.1), (b.0, b.1));
            assert!(
                (a.2 - b.2).abs() <= 1e-9 * b.2.abs(),
                "{ranks} ranks, stage {} iteration {}: {} vs {}",
                a.0,
                a.1,
                a.2,
                b.2
            );
        }
        for ((name, a), (_, b)) in
            maps(&case.path(&format!("{out}/parameters.safetensors"))).iter().zip(&reference_maps)
        {
            for (x, y) in a.iter().zip(b) {
                let (x, y) = (f32::from_bits(*x), f32::from_bits(*y));
                assert!(x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-5 * y.abs(), "{name}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn every_method_gives_the_store_of_one_process_on_three_ranks() {
    // one stage per derivative-free method, 48 evaluations each, both schedulings by each method's choice
    let mut stages = String::new();
    for (k, method) in hydrograd::samplers::Method::ALL.iter().enumerate() {
        let objectives = if method.multi_objective() { "objectives = [\"nse\", \"pbias\"]\n" } else { "" };
        stages += &format!(
            "\n[[train.stage]]\nmapping = \"uniform\"\noptimizer = \"{}\"\n[train.stage.optimize_options]\nmax_evaluations = 48\nrandom_state = {}\n{objectives}",
            method.name(),
            k + 1
        );
    }
    let case = Case::new(&stages);
    let one = case.run(1, "np1", &[]);
    assert!(one.status.success(), "{}", stderr(&one));
    let reference = case.store("np1");
    let methods = hydrograd::samplers::Method::ALL.len();
    assert_eq!(reference.iter().map(|r| r.stage).max(), Some(methods as u32), "every method ran");
    let o = case.run(3, "np3", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(case.store("np3"), reference, "every method: the same rows on 3 ranks");
    assert_eq!(maps(&case.path("np3/parameters.safetensors")), maps(&case.path("np1/parameters.safetensors")));
}
