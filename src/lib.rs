//! The host side of Resurgo: builds the boot image from a manifest, boots it in
//! QEMU, drives the guest over its serial console and runs benchmarks.
//!
//! The `resurgo` binary is a thin command-line front end over this library;
//! integration tests under `tests/` call [`image::build`] and [`qemu::Guest`]
//! directly.

pub mod apt;
pub mod bench;
pub mod bench_frames;
pub mod bench_fuzz;
pub mod bench_net;
pub mod bench_restart;
pub mod bench_swifi;
pub mod children;
pub mod deps;
pub mod diagnostics;
pub mod driver_add;
pub mod driver_build;
pub mod drivers;
pub mod fiasco;
pub mod frames;
pub mod host;
pub mod image;
pub mod kconfig;
pub mod linux;
pub mod linux_baseline;
pub mod linux_config;
pub mod loc;
pub mod nic_models;
pub mod ports;
pub mod qemu;
pub mod qmp;
mod report;
pub mod survey;
pub mod svc;
pub mod swifi;
pub mod tap;
pub mod tcp_trace;
pub mod traps;
pub mod wire;

use std::path::{Path, PathBuf};

pub use report::display_path;

/// The root of the Resurgo workspace (where the top `Cargo.toml` is).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Formats manifest problems as one line each, `error: system/foo.toml:12:5: message`,
/// joined with newlines (no trailing newline). The path is shown relative to the
/// workspace root when it is inside it. `text` is the manifest's text.
pub fn manifest_report(path: &Path, text: &str, problems: &[manifest::Problem]) -> String {
    report::problem_lines(path, &workspace_root(), text, problems).join("\n")
}

/// Reads and validates the manifest at `path`. On problems the error's message is
/// [`manifest_report`]'s lines.
pub fn load_manifest(path: &Path) -> anyhow::Result<(String, manifest::System)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!("error: {}: cannot read the manifest: {e}", display_path(path, &workspace_root()))
    })?;
    match manifest::load(&text) {
        Ok(system) => Ok((text, system)),
        Err(problems) => Err(anyhow::anyhow!("{}", manifest_report(path, &text, &problems))),
    }
}

/// Resolves a manifest path given on the command line: as given when it exists
/// (or is absolute), else relative to the workspace root, so that
/// `--manifest system/foo.toml` works from any directory.
pub fn resolve_manifest_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    let in_root = workspace_root().join(path);
    if in_root.exists() { in_root } else { path.to_path_buf() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(start: Option<usize>, message: &str) -> manifest::Problem {
        manifest::Problem { span: start.map(|s| s..s + 1), message: message.to_string() }
    }

    #[test]
    fn report_names_file_line_and_column_relative_to_the_root() {
        let text = "[system]\nname = \"x\"\n\n[tasks.a]\n    priority = 999\n";
        let at = text.find("999").unwrap();
        let path = workspace_root().join("system/foo.toml");
        let report = manifest_report(
            &path,
            text,
            &[problem(Some(at), "priority 999 is out of range (1..=250)"), problem(None, "no tasks")],
        );
        assert_eq!(
            report,
            "error: system/foo.toml:5:16: priority 999 is out of range (1..=250)\n\
             error: system/foo.toml: no tasks"
        );
    }

    #[test]
    fn report_keeps_paths_outside_the_root_and_folds_multiline_messages() {
        let report =
            manifest_report(Path::new("/elsewhere/m.toml"), "x", &[problem(Some(0), "invalid key\n  expected `=`\n")]);
        assert_eq!(report, "error: /elsewhere/m.toml:1:1: invalid key expected `=`");
    }

    #[test]
    fn real_manifest_problems_are_reported_with_their_line() {
        let text = "[system]\nname = \"t\"\n\n[tasks.a]\nbogus = 1\n";
        let problems = manifest::load(text).unwrap_err();
        let report = manifest_report(&workspace_root().join("system/t.toml"), text, &problems);
        assert!(report.starts_with("error: system/t.toml:"), "{report}");
        assert_eq!(report.lines().count(), problems.len());
    }
}
