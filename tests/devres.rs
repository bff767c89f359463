//! Managed resources in QEMU: a legacy driver (drivers-legacy/devresdemo)
//! takes managed memory, a managed DMA pool with a block from it and two
//! release actions at probe, then fails. The shim's PCI core releases them as
//! Linux's driver core does, last taken first, before it reports the failed
//! probe; the task then ends with no device registered.

mod common;

use common::*;
use resurgo::qemu::{NetConfig, QemuConfig};

#[test]
fn a_failed_probe_releases_its_managed_resources_last_first() {
    let cfg = QemuConfig { netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![] }), ..Default::default() };
    let guest = boot_with("devres", &cfg);
    seen(&guest, "[eth-devres] devresdemo: probing 0000:00:02.0", STEP);
    seen(&guest, "[eth-devres] devresdemo: a pool block at a DMA address, 16-byte aligned", STEP);
    seen(&guest, "[eth-devres] devresdemo: failing the probe with -EIO", STEP);
    let second = seen(&guest, "[eth-devres] devresdemo: released the second action", STEP);
    let first = seen(&guest, "[eth-devres] devresdemo: released the first action (0000:00:02.0)", STEP);
    let failed = seen(&guest, "[eth-devres] WARN devresdemo: probe of 0000:00:02.0 failed with error -5", STEP);
    let lines = guest.lines();
    let at = |l: &str| lines.iter().position(|x| x == l).unwrap_or_else(|| panic!("no line {l}"));
    assert!(at(&second) < at(&first) && at(&first) < at(&failed), "released last first, then the failure reported");
    // Nothing else went wrong in the task: no trap, no fault.
    assert!(!lines.iter().any(|l| l.contains("unimplemented") || l.contains("[eth-devres] ERROR")), "{lines:#?}");
}
