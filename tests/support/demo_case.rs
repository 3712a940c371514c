//! The embedded demo as a test case: its configuration (paths made absolute, without its calibration
//! stages) with the test's own section appended, in a fresh folder, and `hydrograd` run there.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct DemoCase {
    pub dir: tempfile::TempDir,
}

impl DemoCase {
    /// `configs/demo.toml` up to its calibration section, then `extra`, as `demo.toml` in a new folder.
    pub fn new(extra: &str) -> DemoCase {
        let dir = tempfile::tempdir().unwrap();
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let text = fs::read_to_string(configs.join("demo.toml")).unwrap();
        // the demo's own calibration section is replaced by the test's
        let text = text.split("\n# Calibration with").next().unwrap();
        let text = text.replace("\"demo/", &format!("\"{}/demo/", configs.display()));
        fs::write(dir.path().join("demo.toml"), format!("{text}\n{extra}")).unwrap();
        DemoCase { dir }
    }

    /// A path in the case's folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `hydrograd args` in the case's folder, with its cache directory (inputs, evaluations) at `cache`.
    pub fn command(&self, args: &[&str], cache: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hydrograd"));
        c.args(args).current_dir(self.dir.path()).env("HYDROGRAD_CACHE_DIR", self.path(cache));
        c
    }

    /// Runs [`command`](Self::command) to the end; a panic of hydrograd fails the test.
    pub fn run(&self, args: &[&str], cache: &str) -> Output {
        let out = self.command(args, cache).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "hydrograd panicked:\n{stderr}");
        out
    }

    /// `hydrograd train demo.toml --out <out> <extra>`, which must succeed; returns its stdout.
    pub fn train(&self, out: &str, extra: &[&str], cache: &str) -> String {
        let mut args = vec!["train", "demo.toml", "--out", out];
        args.extend_from_slice(extra);
        let o = self.run(&args, cache);
        assert!(o.status.success(), "train failed:\n{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// Starts `hydrograd train demo.toml --out <out>` and kills it (SIGKILL) once `parts` part files of its
    /// samples store are written, i.e. in the middle of a search stage.
    pub fn kill_after_parts(&self, out: &str, cache: &str, parts: usize) {
        let mut child = self.command(&["train", "demo.toml", "--out", out], cache).spawn().unwrap();
        let start = Instant::now();
        let samples = self.path(&format!("{out}/samples"));
        let written = || {
            fs::read_dir(&samples).map_or(0, |d| {
                d.filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().starts_with("part-")).count()
            })
        };
        while written() < parts {
            assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
            assert!(start.elapsed() < Duration::from_secs(120), "no part written");
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
