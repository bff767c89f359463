//! Builds the C half of the shim and the Rust view of the host contract.
//!
//! - `csrc/*.c` are compiled with exactly the flags in `cflags` (one per line;
//!   blank lines and `#` comments ignored), the same flags the image builder
//!   uses for the drivers' own C files, into a static library that is bundled
//!   into this crate's staticlib.
//! - `include/resurgo/host.h` goes through bindgen into `$OUT_DIR/host.rs`
//!   (the `resurgo_*` and `dde_*` functions; `struct net_device` opaque).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = here.parent().expect("workspace root").to_path_buf();
    let include = here.join("include");
    let ddekit_include = root.join("ddekit").join("include");

    for p in ["build.rs", "cflags", "csrc", "include"] {
        println!("cargo:rerun-if-changed={}", here.join(p).display());
    }
    println!("cargo:rerun-if-changed={}", ddekit_include.display());

    build_c(&here, &include, &ddekit_include);
    bindings(&include);
}

/// The C flags, one per line.
fn cflags(here: &Path) -> Vec<String> {
    let path = here.join("cflags");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

fn build_c(here: &Path, include: &Path, ddekit_include: &Path) {
    let csrc = here.join("csrc");
    let mut files: Vec<PathBuf> = fs::read_dir(&csrc)
        .unwrap_or_else(|e| panic!("reading {}: {e}", csrc.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }

    let mut build = cc::Build::new();
    // Only our flags: cc's defaults (-fPIC, -ffunction-sections, -g, its -O,
    // and CFLAGS from the environment) would make the shim differ from the
    // drivers it is linked with.
    build.no_default_flags(true).cargo_warnings(true).warnings(false).extra_warnings(false);
    build.include(include).include(ddekit_include);
    for flag in cflags(here) {
        build.flag(&flag);
    }
    build.define("KBUILD_MODNAME", Some("\"dde_linux\""));
    build.files(&files);
    build.compile("dde_linux_shim_c");
}

fn bindings(include: &Path) {
    let header = include.join("resurgo").join("host.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("host.rs");
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .use_core()
        .allowlist_function("resurgo_.*")
        .allowlist_function("dde_.*")
        .allowlist_type("resurgo_.*")
        .opaque_type("net_device")
        .layout_tests(false)
        .generate()
        .expect("bindgen on include/resurgo/host.h");
    bindings.write_to_file(&out).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
