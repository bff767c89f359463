//! `resurgo bench fuzz`: the syscall fuzzer of `tests/manifests/hostile-fuzz.toml`
//! for a chosen number of calls from a chosen seed: calls, errors by kind,
//! kernel crashes, and the kernel's free frames, heap and tasks before the run
//! and after the fuzzer's tasks are gone.

use crate::bench::{self, BenchReport};
use crate::image::{self, BuildOptions};
use crate::qemu::{Guest, KERNEL_PANIC_MARK, QemuConfig};
use crate::workspace_root;
use anyhow::{Context, Result};
use serde_json::Number;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The fuzzer's system; the bench runs a copy with its own `calls` and `seed`.
pub const MANIFEST: &str = "tests/manifests/hostile-fuzz.toml";
/// Calls of a default run.
pub const DEFAULT_CALLS: u64 = 1_000_000;

pub struct FuzzOptions {
    pub calls: u64,
    /// `None`: the manifest's seed.
    pub seed: Option<u64>,
    pub progress: bool,
}

/// The manifest `text` with the fuzzer's `calls` (and `seed`) set and the
/// system renamed, so that its image does not replace the test's.
pub fn manifest_text(text: &str, calls: u64, seed: Option<u64>) -> Result<String> {
    let mut doc: toml::Table = toml::from_str(text).context("the fuzz manifest is not TOML")?;
    let int = |v: u64| i64::try_from(v).map(toml::Value::Integer).context("calls and seed must be below 2^63");
    let values = doc
        .get_mut("tasks")
        .and_then(|t| t.get_mut("fuzz"))
        .and_then(|f| f.get_mut("values"))
        .and_then(|v| v.as_table_mut())
        .context("the fuzz manifest has no [tasks.fuzz] values")?;
    values.insert("calls".into(), int(calls)?);
    if let Some(s) = seed {
        values.insert("seed".into(), int(s)?);
    }
    let system = doc.get_mut("system").and_then(|s| s.as_table_mut()).context("the fuzz manifest has no [system]")?;
    system.insert("name".into(), toml::Value::String("hostile-fuzz-bench".into()));
    Ok(toml::to_string(&doc)?)
}

/// Writes the manifest for `opts` under target/image/manifests/.
fn write_manifest(opts: &FuzzOptions) -> Result<PathBuf> {
    let src = workspace_root().join(MANIFEST);
    let text = std::fs::read_to_string(&src).with_context(|| format!("cannot read {}", src.display()))?;
    let dir = image::target_dir().join("manifests");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("hostile-fuzz-bench.toml");
    std::fs::write(&out, manifest_text(&text, opts.calls, opts.seed)?)?;
    Ok(out)
}

/// Boots the fuzzer and collects its figures. A kernel panic is a result, not
/// an error: `kernel_crashes` is 1 and the figures are those seen before it.
pub fn run(opts: &FuzzOptions) -> Result<BenchReport> {
    let manifest = write_manifest(opts)?;
    let image = image::build(&BuildOptions { manifest, progress: opts.progress })?;
    let guest = Guest::boot(&image, &QemuConfig::default())?;
    // Generous: about 40,000 calls a second under TCG on a busy machine.
    let deadline = Instant::now() + bench::BENCH_TIMEOUT + Duration::from_millis(opts.calls);
    let left = deadline.saturating_duration_since(Instant::now());
    let crashed = match guest.wait_line("BENCH done", left) {
        Ok(_) => false,
        Err(_) if guest.lines().iter().any(|l| l.starts_with(KERNEL_PANIC_MARK)) => true,
        Err(e) => return Err(e).context("the fuzzer did not finish"),
    };
    let lines = guest.lines();
    let mut seen = BenchReport::default();
    for line in &lines {
        if let Some(bench::BenchLine::Values(values)) = bench::parse_bench_line(line)? {
            for (k, v) in values {
                seen.insert(k, v);
            }
        }
    }
    // The keys in a fixed order, kernel crashes among them.
    let mut report = BenchReport::default();
    for key in ["calls", "seed", "ok", "errors"] {
        if let Some(v) = seen.get(key) {
            report.insert(key.into(), v.clone());
        }
    }
    for (k, v) in seen.values.iter().filter(|(k, _)| k.starts_with("err_")) {
        report.insert(k.clone(), v.clone());
    }
    report.insert("kernel_crashes".into(), Number::from(crashed as u64));
    for (k, v) in &seen.values {
        report.insert(k.clone(), v.clone());
    }
    Ok(report)
}

/// Whether a report shows the kernel as the fuzzer found it: no crash, no
/// register corrupted, frames, heap and tasks back.
pub fn clean(report: &BenchReport) -> bool {
    let n = |k: &str| report.get(k).and_then(Number::as_u64);
    n("kernel_crashes") == Some(0)
        && n("registers_corrupted") == Some(0)
        && n("fuzzer_exit_code") == Some(0)
        && ["frames", "heap", "tasks"]
            .iter()
            .all(|k| n(&format!("{k}_before")).is_some() && n(&format!("{k}_before")) == n(&format!("{k}_after")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_gets_calls_and_seed() {
        let text = std::fs::read_to_string(workspace_root().join(MANIFEST)).unwrap();
        let out = manifest_text(&text, 1234, Some(99)).unwrap();
        let doc: toml::Table = toml::from_str(&out).unwrap();
        let values = &doc["tasks"]["fuzz"]["values"];
        assert_eq!(values["calls"].as_integer(), Some(1234));
        assert_eq!(values["seed"].as_integer(), Some(99));
        assert_eq!(doc["system"]["name"].as_str(), Some("hostile-fuzz-bench"));
        let keep = manifest_text(&text, 5, None).unwrap();
        let orig: toml::Table = toml::from_str(&text).unwrap();
        let doc: toml::Table = toml::from_str(&keep).unwrap();
        assert_eq!(doc["tasks"]["fuzz"]["values"]["seed"], orig["tasks"]["fuzz"]["values"]["seed"]);
        assert!(manifest_text(&text, u64::MAX, None).is_err());
    }

    #[test]
    fn clean_needs_every_figure_back() {
        let mut r = BenchReport::default();
        for (k, v) in [
            ("kernel_crashes", 0),
            ("registers_corrupted", 0),
            ("fuzzer_exit_code", 0),
            ("frames_before", 10),
            ("frames_after", 10),
            ("heap_before", 7),
            ("heap_after", 7),
            ("tasks_before", 3),
            ("tasks_after", 3),
        ] {
            r.insert(k.into(), Number::from(v));
        }
        assert!(clean(&r));
        r.insert("heap_after".into(), Number::from(8));
        assert!(!clean(&r));
        r.insert("heap_after".into(), Number::from(7));
        r.insert("kernel_crashes".into(), Number::from(1));
        assert!(!clean(&r));
    }
}
