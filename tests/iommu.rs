//! The IOMMU confines a driver's device (doc/iommu.md): a hostile driver
//! programs its RTL8139 to receive a frame into a kernel frame and into
//! another task's page; each write is blocked, reported as that driver's
//! fault (with device, I/O address and access) to the reincarnation server,
//! which restarts it, and both targets are unchanged afterwards.

mod common;

use common::*;
use resurgo::qemu::{NetConfig, QemuConfig};

#[test]
fn a_hostile_driver_s_dma_is_blocked_reported_and_restarted() {
    let cfg = QemuConfig { netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![] }), ..Default::default() };
    let guest = boot_with("iommu", &cfg);
    let r = run_until(&guest, "TEST dma.watch done");
    let lines = guest.lines();
    let before: Vec<&TestLine> = r.iter().filter(|t| t.name == "dma.before").collect();
    let after: Vec<&TestLine> = r.iter().filter(|t| t.name == "dma.after").collect();
    assert_eq!(before.len(), 2, "{r:#?}");
    assert_eq!(after.len(), 2, "{r:#?}");
    assert!(!r.iter().any(|t| t.name == "dma.not_stopped"), "{}", guest.tail(40));
    for b in before {
        let kind = b.field("kind");
        let target = b.num("target");
        // The kernel blocked and recorded the write, as this driver's fault...
        let blocked =
            format!("[kernel] WARN DMA fault: 00:02.0 write at I/O address {target:#x} blocked (VT-d reason 0x");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&blocked))
            .unwrap_or_else(|| panic!("no `{blocked}` for the {kind} target; last lines:\n{}", guest.tail(60)));
        assert!(line.ends_with("; a fault of dma-hostile"), "{line}");
        // ...and the reincarnation server restarted it for that fault...
        let cause = format!("dma-fault: device 00:02.0 write at I/O address {target:#x} blocked by the IOMMU");
        assert!(
            lines.iter().any(|l| l.starts_with("[reincarnation]") && l.contains(&cause)),
            "no restart for `{cause}`:\n{}",
            guest.tail(60)
        );
        // ...and the target is as it was.
        let a = after.iter().find(|a| a.field("kind") == kind).unwrap();
        assert_eq!(a.num("phys"), target, "{kind}");
        assert_eq!(a.field("sum"), b.field("sum"), "the {kind} target changed");
    }
    // Its status (what `svc list` and the status page show) named the
    // fault: the watcher polls it, so it sees at least the second one, which
    // stays the last cause until the third instance exits.
    assert!(
        r.iter().any(|t| t.name == "dma.svc_status"
            && t.raw.contains("cause=\"dma-fault: device 00:02.0 write at I/O address 0x")),
        "{r:#?}"
    );
    // Each instance had a domain of its own, torn down after its death.
    let fresh = lines.iter().filter(|l| l.contains("00:02.0 of dma-hostile: fresh DMA domain")).count();
    let torn = lines.iter().filter(|l| l.contains("00:02.0 of dma-hostile: DMA domain torn down")).count();
    assert!(fresh >= 2 && torn >= 2, "fresh {fresh}, torn down {torn}:\n{}", guest.tail(60));
}
