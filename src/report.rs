//! Manifest problems as compiler-style lines: `error: system/foo.toml:12:5: message`.
//!
//! This file is also compiled into the root `build.rs` (through `#[path]`), so it
//! uses nothing but `std` and the `manifest` crate.

use std::path::Path;

/// The path to show for a manifest: relative to `root` when it is inside it,
/// as given otherwise.
pub fn display_path(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.display().to_string()
}

/// One line per problem, `error: PATH:LINE:COL: MESSAGE` (or `error: PATH: MESSAGE`
/// when the problem has no position in the text). `text` is the manifest the
/// problems were found in; the path is shown relative to `root` when possible.
pub fn problem_lines(path: &Path, root: &Path, text: &str, problems: &[manifest::Problem]) -> Vec<String> {
    let shown = display_path(path, root);
    problems
        .iter()
        .map(|p| {
            // Messages from the TOML parser can span lines; a report line must not.
            let message = p.message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            match &p.span {
                Some(span) => {
                    let (line, col) = manifest::line_col(text, span.start);
                    format!("error: {shown}:{line}:{col}: {message}")
                }
                None => format!("error: {shown}: {message}"),
            }
        })
        .collect()
}
