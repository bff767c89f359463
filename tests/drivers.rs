//! The legacy-driver pipeline on the host: Debian's Linux sources fetched and
//! checked against the committed manifests, `resurgo drivers --json`, manifests
//! written by `driver add`, and the drivers compiled against Linux's configured headers
//! (or the missing-API report when the shim lacks something).
//!
//! The first test to need the sources downloads `linux-source-6.1` with apt
//! (about 140 MB, a few seconds) into `~/.cache/resurgo`; the rest reuse it.

use resurgo::driver_build::{self, Mode};
use resurgo::drivers::{self, Driver};
use resurgo::{driver_add, linux, workspace_root};
use std::path::PathBuf;
use std::process::Command;

fn all() -> Vec<Driver> {
    drivers::all().expect("the driver manifests parse")
}

#[test]
fn sources_are_fetched_and_match_their_pins() {
    let all = all();
    let refs: Vec<&Driver> = all.iter().collect();
    let set = drivers::fetch_sources(&refs, false).expect("fetching the Linux sources");
    assert_eq!(set.linux_version.as_deref(), Some(linux::pinned_version().unwrap().as_str()));
    for d in &all {
        for f in d.files() {
            let path = set.get(&d.name, &f.path);
            assert_eq!(linux::sha256_file(path).unwrap(), f.sha256, "{}", path.display());
        }
    }
}

#[test]
fn drivers_json_is_the_last_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_resurgo")).args(["drivers", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    let list = v["drivers"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|d| d["name"].as_str().unwrap()).collect();
    for name in ["8139cp", "e1000", "ne2k-pci", "pcnet32"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let cp = list.iter().find(|d| d["name"] == "8139cp").unwrap();
    assert_eq!(cp["sources"][0]["path"], "drivers/net/ethernet/realtek/8139cp.c");
    assert_eq!(cp["pci_ids"][0], "10ec:8139");
    assert!(cp["built"].is_boolean());
}

/// Manifests written by hand, and what `driver add` says to their sources:
/// virtio_pci's id table is any device of Red Hat's, which names no card.
const HAND_WRITTEN: &[(&str, &str)] =
    &[("virtio-net", "cannot resolve PCI_ANY_ID in `{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, PCI_ANY_ID) }`")];

#[test]
fn driver_add_reproduces_the_committed_manifests() {
    let all = all();
    let refs: Vec<&Driver> = all.iter().collect();
    let set = drivers::fetch_sources(&refs, false).expect("fetching the Linux sources");
    let out = std::env::temp_dir().join(format!("resurgo-driver-add-{}", std::process::id()));
    for d in &all {
        let paths: Vec<PathBuf> = d.manifest.sources.iter().map(|f| set.get(&d.name, &f.path).to_path_buf()).collect();
        let added = driver_add::add_into(&out, &paths, Some(&d.name), true, false);
        if let Some((_, why)) = HAND_WRITTEN.iter().find(|(name, _)| *name == d.name) {
            let e = format!("{:#}", added.err().unwrap_or_else(|| panic!("{}: driver add wrote it", d.name)));
            assert!(e.contains(why), "{}: {e}", d.name);
            continue;
        }
        let added = added.unwrap();
        let m = manifest::driver::DriverManifest::parse(&added.text).unwrap();
        assert_eq!(m.pci_ids, d.manifest.pci_ids, "{}", d.name);
        assert_eq!(m.sources, d.manifest.sources, "{}", d.name);
        let mut got = m.includes.clone();
        let mut want = d.manifest.includes.clone();
        got.sort_by(|a, b| a.path.cmp(&b.path));
        want.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(got, want, "{}", d.name);
        assert_eq!(m.description, d.manifest.description, "{}", d.name);
        assert!(added.unresolved.is_empty(), "{}: {:?}", d.name, added.unresolved);
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// Every driver compiles against Linux's headers configured for Resurgo (and
/// the shim's shadow folder); when one does not, the failure is the
/// missing-API report's one summary line (the report itself is on stderr).
#[test]
fn drivers_compile_against_linux_headers() {
    if !workspace_root().join(driver_build::CFLAGS_FILE).is_file() {
        // Before the shim has its flags, the build says so in one line.
        let e = driver_build::read_cflags(&workspace_root()).unwrap_err().to_string();
        assert!(e.contains("dde-linux-shim/cflags does not exist yet"), "{e}");
        return;
    }
    let all = all();
    let refs: Vec<&Driver> = all.iter().collect();
    let result = resurgo::image::with_build_lock(|| driver_build::build(&refs, Mode::Check, false));
    if let Err(e) = result {
        let text = format!("{e:#}");
        assert!(text.starts_with("error: ") && text.lines().count() == 1, "not a one-line summary: {text}");
        panic!("{text}");
    }
}

/// `resurgo driver survey --json`: every x86-64 PCI driver of
/// drivers/net/ethernet tried against Linux's headers and the shim. The committed drivers are
/// among those that compile and link, without a trap; the JSON object is the
/// last line.
#[test]
fn the_survey_builds_the_committed_drivers_without_traps() {
    let out = Command::new(env!("CARGO_BIN_EXE_resurgo")).args(["driver", "survey", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("top missing headers"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let totals = &v["totals"];
    let n = |k: &str| totals[k].as_u64().unwrap();
    assert!(n("modules") > n("pci_drivers") && n("pci_drivers") > n("surveyed"), "{totals}");
    assert!(n("surveyed") >= 100, "{totals}");
    assert!(n("surveyed") >= n("compiled") && n("compiled") >= n("linked") && n("linked") >= n("without_traps"));
    let list = v["drivers"].as_array().unwrap();
    for name in ["8139cp", "e1000", "ne2k-pci", "pcnet32"] {
        let d = list.iter().find(|d| d["name"] == name).unwrap_or_else(|| panic!("{name} surveyed"));
        assert_eq!((&d["compiled"], &d["linked"], &d["traps"]), (&true.into(), &true.into(), &0.into()), "{d}");
    }
    // Drivers that do not compile say why.
    let failed = list.iter().find(|d| d["compiled"] == false).unwrap();
    assert!(failed["first_error"].is_string(), "{failed}");
    // Another architecture's drivers are not surveyed.
    let off: Vec<&str> = v["not_on_x86_64"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(off.contains(&"pch_gbe"), "{off:?}");
}

/// `driver loc` counts what each task links: the XArray and the radix tree
/// that virtio's IDA needs are in virtio-net's task and not in 8139cp's.
#[test]
fn driver_loc_counts_the_library_files_each_task_links() {
    let out = Command::new(env!("CARGO_BIN_EXE_resurgo"))
        .args(["driver", "loc", "--json", "8139cp", "virtio-net"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let files = |d: &str| v["drivers"][d]["library_files"].as_object().unwrap().clone();
    let (cp, virtio) = (files("8139cp"), files("virtio-net"));
    for f in ["lib/idr.c", "lib/xarray.c", "lib/radix-tree.c"] {
        assert!(virtio.contains_key(f) && !cp.contains_key(f), "{f}: {cp:?} {virtio:?}");
    }
    assert!(cp.contains_key("lib/string.c"));
    let d = &v["drivers"]["virtio-net"];
    assert_eq!(d["linux"].as_u64().unwrap(), d["driver"].as_u64().unwrap() + d["library"].as_u64().unwrap());
    assert!(d["driver"].as_u64().unwrap() > 9000, "{d}");
    assert!(v["shim"]["c"].as_u64().unwrap() > 0 && v["ddekit"]["rust"].as_u64().unwrap() > 0);
}
