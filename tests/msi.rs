//! Message-signalled interrupts (doc/iommu.md, "Message-signalled
//! interrupts"): a test driver's e1000e raises its MSI with real registers
//! and each interrupt arrives on the IRQ object io handed over, on q35
//! through an interrupt-remapping entry that only that device may use, and
//! on `pc` (no IOMMU) in the compatibility format. io programs the device's
//! MSI capability, which the driver itself may not write.

mod common;

use common::*;
use resurgo::qemu::{Machine, NetConfig, QemuConfig};

fn check(machine: Machine, remapped: bool) {
    let cfg = QemuConfig {
        machine,
        netdev: Some(NetConfig { model: "e1000e".into(), hostfwd: vec![] }),
        ..Default::default()
    };
    let guest = boot_with("msi", &cfg);
    let r = run_until(&guest, "TEST msi done");
    for name in ["msi.enabled", "msi.delivered", "msi.no_software_trigger", "msi.off", "msi.again"] {
        let t = r.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no {name}: {r:#?}"));
        assert!(t.ok, "{t:?}\n{}", guest.tail(30));
    }
    let lines = guest.lines();
    let kernel = lines.iter().find(|l| l.starts_with("[kernel] local APIC")).expect("the kernel found its APIC");
    assert_eq!(kernel.contains("each through a remapping entry only its device may use"), remapped, "{kernel}");
    // io wrote what the kernel gave: the remappable format (bit 4) on q35.
    let on = lines.iter().find(|l| l.contains("of msi-probe: MSI on (line 0x100, message ")).expect("io's MSI line");
    let address = on.split("message ").nth(1).and_then(|m| m.split('/').next()).expect("the address");
    let address = u64::from_str_radix(address.trim_start_matches("0x"), 16).expect("hex");
    assert_eq!(address >> 20, 0xfee, "{on}");
    assert_eq!(address & 0x10 != 0, remapped, "remappable format: {on}");
    assert!(lines.iter().any(|l| l.contains("of msi-probe: MSI off, its INTx line back on")), "{}", guest.tail(30));
}

#[test]
fn an_msi_arrives_through_its_own_remapping_entry_on_q35() {
    check(Machine::Q35, true);
}

#[test]
fn an_msi_arrives_in_the_compatibility_format_on_pc() {
    check(Machine::Pc, false);
}
