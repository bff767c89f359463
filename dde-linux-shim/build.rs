//! Builds the C half of the shim and the Rust view of the host contract.
//!
//! - `csrc/core/*.c` (the generic Linux layer) and `csrc/net/*.c` (the
//!   network class on it) are compiled with exactly the flags in `cflags`
//!   (one per line; blank lines and `#` comments ignored), the same flags the
//!   image builder uses for the drivers' own C files, against the same
//!   headers: Linux's own, configured for Resurgo, with the shadow folder
//!   `linux-shadow/` first. The host tool configures them before it runs
//!   this build and leaves their include arguments, one per line, in the
//!   file `RESURGO_LINUX_HEADERS` names, by default
//!   `target/linux-headers.args` of the workspace (`src/driver_build.rs`,
//!   `SHIM_HEADERS_FILE`). After them come `include/` (`resurgo/host.h`,
//!   `resurgo/net.h`, and the freestanding `stdint.h`/`stddef.h` they and
//!   `ddekit.h` include), DDEKit's headers and `csrc/` (the generic layer's
//!   `internal.h`). The objects go into a static library that is bundled
//!   into this crate's staticlib.
//! - `include/resurgo/host.h` and `net.h` go through bindgen into
//!   `$OUT_DIR/host.rs` and `net.rs` (the `resurgo_*` and `dde_*` functions;
//!   `struct net_device` opaque).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = here.parent().expect("workspace root").to_path_buf();
    let include = here.join("include");
    let ddekit_include = root.join("ddekit").join("include");

    for p in ["build.rs", "cflags", "csrc", "include", "linux-shadow"] {
        println!("cargo:rerun-if-changed={}", here.join(p).display());
    }
    println!("cargo:rerun-if-changed={}", ddekit_include.display());
    println!("cargo:rerun-if-env-changed=RESURGO_LINUX_HEADERS");
    let args_file = env::var_os("RESURGO_LINUX_HEADERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("linux-headers.args"));
    println!("cargo:rerun-if-changed={}", args_file.display());
    let linux_args = match fs::read_to_string(&args_file) {
        Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>(),
        Err(e) => panic!(
            "the shim's C is compiled against Linux's headers configured for Resurgo, whose include arguments \
             {} should hold ({e}): run `cargo run --release -- build` (or `driver build`) once, which \
             configures them and writes that file",
            args_file.display()
        ),
    };

    build_c(&here, &linux_args, &include, &ddekit_include);
    bindings(&include);
}

/// The C flags, one per line.
fn cflags(here: &Path) -> Vec<String> {
    let path = here.join("cflags");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// The C folders under `csrc/`: the generic Linux layer, then the device
/// classes on it. A class is a folder of its own here and a module of its own
/// in `src/`, with its contract in `include/resurgo/`.
const C_FOLDERS: [&str; 2] = ["core", "net"];

fn build_c(here: &Path, linux_args: &[String], include: &Path, ddekit_include: &Path) {
    let csrc = here.join("csrc");
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in C_FOLDERS {
        let dir = csrc.join(folder);
        let mut in_folder: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        in_folder.sort();
        files.extend(in_folder);
    }
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }

    let mut build = cc::Build::new();
    // Only our flags: cc's defaults (-fPIC, -ffunction-sections, -g, its -O,
    // and CFLAGS from the environment) would make the shim differ from the
    // drivers it is linked with.
    build.no_default_flags(true).cargo_warnings(true).warnings(false).extra_warnings(false);
    for flag in cflags(here) {
        build.flag(&flag);
    }
    for arg in linux_args {
        build.flag(arg);
    }
    // After Linux's (cc's `include()` would put them first).
    build
        .flag(format!("-I{}", include.display()))
        .flag(format!("-I{}", ddekit_include.display()))
        // The generic layer's internal.h, for the classes' files too.
        .flag(format!("-I{}", csrc.display()));
    build.define("KBUILD_MODNAME", Some("\"dde_linux\""));
    build.files(&files);
    build.compile("dde_linux_shim_c");
}

/// The contracts between the C and the Rust halves, one per layer: the
/// generic one (`host.h`) and each class's (`net.h`).
fn bindings(include: &Path) {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    for name in ["host", "net"] {
        let header = include.join("resurgo").join(format!("{name}.h"));
        let out = out_dir.join(format!("{name}.rs"));
        let bindings = bindgen::Builder::default()
            .header(header.to_string_lossy())
            .use_core()
            .allowlist_function("resurgo_.*")
            .allowlist_function("dde_.*")
            .allowlist_type("resurgo_.*")
            .opaque_type("net_device")
            .layout_tests(false)
            .generate()
            .unwrap_or_else(|e| panic!("bindgen on include/resurgo/{name}.h: {e}"));
        bindings.write_to_file(&out).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    }
}
