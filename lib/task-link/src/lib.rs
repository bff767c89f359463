//! Called from the build script of every task crate: links its binaries as static,
//! non-PIE ELF files laid out by `user.ld` (image at 4 MiB, segments page aligned,
//! so that a loader maps each with its own rights).

/// Emits the linker arguments for the calling package's binaries.
pub fn emit() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/user.ld");
    println!("cargo:rerun-if-changed={script}");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,--gc-sections"] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
}
