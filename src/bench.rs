//! Benchmarks that run in the guest and report figures on the serial console.
//!
//! A benchmark task prints lines `BENCH key=value key=value ...` (integer
//! values; the kernel log may prefix them with `[task] `) and ends with
//! `BENCH done`. The host collects every key, prints a table and, on request,
//! one JSON object.

use crate::image::{self, BuildOptions};
use crate::qemu::{Guest, QemuConfig};
use crate::workspace_root;
use anyhow::{Context, Result, bail};
use serde_json::{Map, Number, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The manifest of the IPC benchmark system.
pub const IPC_MANIFEST: &str = "system/bench-ipc.toml";
/// How long a benchmark run may take, from boot to `BENCH done`.
pub const BENCH_TIMEOUT: Duration = Duration::from_secs(300);

/// One `BENCH` line.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchLine {
    /// `BENCH key=value ...`
    Values(Vec<(String, Number)>),
    /// `BENCH done`
    Done,
}

/// The text of a `BENCH` line after the optional `[task] ` prefix, if the line
/// is one.
fn bench_body(line: &str) -> Option<&str> {
    let line = line.trim();
    let body = match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, body)| body.trim_start()),
        None => line,
    };
    let rest = body.strip_prefix("BENCH")?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest.trim())
}

/// Parses one line of guest output: `Ok(None)` when it is not a `BENCH` line,
/// an error when it is one but malformed.
pub fn parse_bench_line(line: &str) -> Result<Option<BenchLine>> {
    let Some(body) = bench_body(line) else {
        return Ok(None);
    };
    if body == "done" {
        return Ok(Some(BenchLine::Done));
    }
    if body.is_empty() {
        bail!("malformed benchmark line (no key=value): {line:?}");
    }
    let mut values = Vec::new();
    for pair in body.split_whitespace() {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("malformed benchmark line ({pair:?} is not key=value): {line:?}");
        };
        let key_ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !key_ok {
            bail!("malformed benchmark line (bad key {key:?}): {line:?}");
        }
        let number = value
            .parse::<i64>()
            .map(Number::from)
            .or_else(|_| value.parse::<u64>().map(Number::from))
            .map_err(|_| anyhow::anyhow!("malformed benchmark line ({key}={value} is not an integer): {line:?}"))?;
        values.push((key.to_string(), number));
    }
    Ok(Some(BenchLine::Values(values)))
}

/// The figures a benchmark reported, in the order the keys first appeared (a
/// key reported again keeps its place and takes the new value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchReport {
    pub values: Vec<(String, Number)>,
}

impl BenchReport {
    pub fn insert(&mut self, key: String, value: Number) {
        match self.values.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.values.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Number> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A readable two-column table, values right-aligned.
    pub fn table(&self) -> String {
        let kw = self.values.iter().map(|(k, _)| k.len()).chain([3]).max().unwrap_or(3);
        let vw = self.values.iter().map(|(_, v)| v.to_string().len()).chain([5]).max().unwrap_or(5);
        let mut out = format!("{:<kw$}  {:>vw$}\n", "key", "value");
        out.push_str(&format!("{}  {}\n", "-".repeat(kw), "-".repeat(vw)));
        for (k, v) in &self.values {
            out.push_str(&format!("{k:<kw$}  {:>vw$}\n", v.to_string()));
        }
        out
    }

    /// One JSON object with every key, on one line.
    pub fn json(&self) -> String {
        let map: Map<String, Value> = self.values.iter().map(|(k, v)| (k.clone(), Value::Number(v.clone()))).collect();
        Value::Object(map).to_string()
    }
}

/// Collects the figures from guest output: `Ok(Some(report))` once `BENCH done`
/// has been seen, `Ok(None)` if it has not (yet).
pub fn collect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Option<BenchReport>> {
    let mut report = BenchReport::default();
    for line in lines {
        match parse_bench_line(line)? {
            None => {}
            Some(BenchLine::Done) => return Ok(Some(report)),
            Some(BenchLine::Values(values)) => {
                for (k, v) in values {
                    report.insert(k, v);
                }
            }
        }
    }
    Ok(None)
}

/// Builds and boots the system in `manifest` with `cfg`, and collects its
/// `BENCH` lines until `BENCH done` (at most [`BENCH_TIMEOUT`]).
pub fn run(manifest: &Path, cfg: &QemuConfig, progress: bool) -> Result<BenchReport> {
    let image = image::build(&BuildOptions { manifest: manifest.to_path_buf(), progress })?;
    let guest = Guest::boot(&image, cfg)?;
    let deadline = Instant::now() + BENCH_TIMEOUT;
    let mut report = BenchReport::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = guest
            .wait_for(|l| bench_body(l).is_some(), left)
            .with_context(|| format!("benchmark `{}` did not finish", image.system.name))?;
        match parse_bench_line(&line)? {
            Some(BenchLine::Done) => break,
            Some(BenchLine::Values(values)) => {
                for (k, v) in values {
                    report.insert(k, v);
                }
            }
            None => unreachable!("wait_for returned a line that is not a BENCH line"),
        }
    }
    if report.values.is_empty() {
        bail!("benchmark `{}` said `BENCH done` without reporting any figure", image.system.name);
    }
    Ok(report)
}

/// `resurgo bench ipc`: the IPC benchmark system, with `-icount shift=0` so the
/// guest TSC counts instructions.
pub fn ipc(progress: bool) -> Result<BenchReport> {
    let cfg = QemuConfig { icount: true, ..QemuConfig::default() };
    run(&workspace_root().join(IPC_MANIFEST), &cfg, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, i64)]) -> BenchLine {
        BenchLine::Values(pairs.iter().map(|(k, v)| (k.to_string(), Number::from(*v))).collect())
    }

    #[test]
    fn parses_plain_and_prefixed_lines() {
        assert_eq!(parse_bench_line("BENCH a=1 b=-2").unwrap(), Some(values(&[("a", 1), ("b", -2)])));
        assert_eq!(
            parse_bench_line("[bench-ipc] BENCH ipc_roundtrip_instructions=412\r").unwrap(),
            Some(values(&[("ipc_roundtrip_instructions", 412)]))
        );
        assert_eq!(parse_bench_line("[bench] BENCH done").unwrap(), Some(BenchLine::Done));
        assert_eq!(parse_bench_line("BENCH done").unwrap(), Some(BenchLine::Done));
    }

    #[test]
    fn other_lines_are_not_bench_lines() {
        for line in
            ["", "[init] hello", "BENCHMARK starting", "[x] BENCHES a=1", "the BENCH a=1", "[kernel] PANIC: BENCH a=1"]
        {
            assert_eq!(parse_bench_line(line).unwrap(), None, "{line:?}");
        }
    }

    #[test]
    fn malformed_bench_lines_are_errors() {
        for line in ["BENCH", "BENCH a", "BENCH a=x", "BENCH a=1.5", "BENCH =3", "[t] BENCH a=1 b"] {
            assert!(parse_bench_line(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn large_unsigned_values_are_kept() {
        let Some(BenchLine::Values(v)) = parse_bench_line("BENCH big=18446744073709551615").unwrap() else { panic!() };
        assert_eq!(v[0].1.as_u64(), Some(u64::MAX));
    }

    #[test]
    fn collect_needs_done_and_keeps_first_order() {
        let out = ["[kernel] booting", "[bench] BENCH b=2 a=1", "[bench] noise", "[bench] BENCH c=3 b=20"];
        assert_eq!(collect(out).unwrap(), None);
        let done: Vec<&str> = out.iter().copied().chain(["[bench] BENCH done", "BENCH z=9"]).collect();
        let report = collect(done).unwrap().unwrap();
        let keys: Vec<&str> = report.values.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(report.get("b"), Some(&Number::from(20)));
        assert_eq!(report.json(), r#"{"b":20,"a":1,"c":3}"#);
    }

    #[test]
    fn table_aligns_keys_and_values() {
        let mut r = BenchReport::default();
        r.insert("ipc_roundtrip_instructions".into(), Number::from(412));
        r.insert("n".into(), Number::from(1_000_000));
        let table = r.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], "ipc_roundtrip_instructions      412");
        assert_eq!(lines[3], "n                           1000000");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    }
}
