//! Checks every boot manifest when the host tool builds, so that `cargo build`
//! names the file, line and column of anything wrong in `system/*.toml` (and in
//! the test manifests that are meant to be valid, `tests/manifests/*.toml` not
//! starting with `bad-`), and every legacy driver's `drivers-legacy/*/driver.toml`.

#[path = "src/report.rs"]
#[allow(dead_code)]
mod report;

use std::path::{Path, PathBuf};

/// Whether a manifest file name in a folder is checked.
type Wanted = fn(&str) -> bool;

/// Folders of manifests that must be valid, and which of their files are checked.
const FOLDERS: &[(&str, Wanted)] = &[("system", |_| true), ("tests/manifests", |name| !name.starts_with("bad-"))];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));

    let mut lines = Vec::new();
    for (folder, wanted) in FOLDERS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", dir.display());
        for path in manifests_in(&dir, *wanted) {
            lines.extend(check(&path, &root));
        }
    }

    lines.extend(check_drivers(&root));

    if !lines.is_empty() {
        for line in &lines {
            println!("cargo:warning={line}");
            eprintln!("{line}");
        }
        std::process::exit(1);
    }
}

fn manifests_in(dir: &Path, wanted: Wanted) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(wanted))
        .collect();
    paths.sort();
    paths
}

fn check(path: &Path, root: &Path) -> Vec<String> {
    println!("cargo:rerun-if-changed={}", path.display());
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![format!("error: {}: cannot read: {e}", report::display_path(path, root))];
        }
    };
    match manifest::load(&text) {
        Ok(_) => Vec::new(),
        Err(problems) => report::problem_lines(path, root, &text, &problems),
    }
}

/// Problems of the driver manifests, `error: drivers-legacy/NAME/driver.toml: message`.
fn check_drivers(root: &Path) -> Vec<String> {
    let dir = root.join("drivers-legacy");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut folders: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    folders.sort();
    let mut lines = Vec::new();
    for folder in folders {
        let path = folder.join("driver.toml");
        println!("cargo:rerun-if-changed={}", folder.display());
        if !path.is_file() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let shown = report::display_path(&path, root);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                lines.push(format!("error: {shown}: cannot read: {e}"));
                continue;
            }
        };
        let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match manifest::driver::DriverManifest::parse(&text) {
            Ok(m) if m.name != folder_name => lines
                .push(format!("error: {shown}: the driver is named `{}` but its folder is `{folder_name}`", m.name)),
            Ok(_) => {}
            Err(e) => lines.push(format!("error: {shown}: {}", e.lines().next().unwrap_or(&e))),
        }
    }
    lines
}
