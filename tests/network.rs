//! Unmodified Linux NIC drivers in their own tasks, in QEMU: each probes its
//! device, the guest gets an address, and data crosses byte for byte. And a
//! driver task that reaches past its device is refused.

mod common;

use common::*;
use resurgo::qemu::{Guest, NetConfig, QemuConfig};
use sha2::{Digest, Sha256};

/// Boots the network system with one QEMU NIC, forwarding echo and sink.
fn boot_nic(model: &str) -> (Guest, u16, u16) {
    let [echo, sink] = free_ports();
    let cfg = QemuConfig {
        netdev: Some(NetConfig { model: model.into(), hostfwd: vec![(echo, 7), (sink, 9)] }),
        ..Default::default()
    };
    (boot_with("net", &cfg), echo, sink)
}

fn check_nic(model: &str, driver: &str, probe_line: &str) -> Guest {
    let (guest, echo_port, sink_port) = boot_nic(model);
    // The Linux driver's own probe message, from its task.
    let line = seen(&guest, probe_line, STEP);
    assert!(line.starts_with(&format!("[eth-{driver}]")), "probe message from the driver's task: {line}");
    // The other driver tasks found no device and ended quietly.
    seen(&guest, &format!("[netd] eth-{driver} up 10.0.2.15/24"), STEP);
    seen(&guest, "[echo] listening on 7", STEP);
    seen(&guest, "[sink] listening on 9", STEP);

    // 1 MiB of random data to echo comes back byte for byte.
    let data = random_bytes(1 << 20, 0x5eed);
    let got = echo_round_trip(echo_port, &data).expect("echo stream");
    assert_eq!(got.len(), data.len(), "{model}: echoed length");
    assert!(got == data, "{model}: echoed bytes differ");

    // A 4 MiB stream to the sink, whose sha256 must match.
    let data = random_bytes(4 << 20, 0xfeed);
    let want = hex(&Sha256::digest(&data));
    send_all(sink_port, &data);
    let report = guest.wait_line("[sink] received ", STEP).unwrap();
    assert!(report.contains(&format!("received {} bytes sha256 {want}", data.len())), "{model}: {report}");
    guest
}

/// Whether io switched the driver's device to MSI-X with `vectors` vectors.
fn on_msix(guest: &Guest, driver: &str, vectors: usize) -> bool {
    let on = format!("[io] 00:02.0 of eth-{driver}: MSI-X on ({vectors} vectors");
    guest.lines().iter().any(|l| l.starts_with(&on))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn rtl8139_with_linux_8139cp() {
    check_nic("rtl8139", "8139cp", "RTL-8139C+ at ");
}

#[test]
fn ne2k_pci_with_linux_ne2k_pci() {
    check_nic("ne2k_pci", "ne2k-pci", "RTL-8029");
}

#[test]
fn a_driver_that_reaches_past_its_device_is_refused() {
    let cfg = QemuConfig {
        extra_args: [
            "-netdev",
            "user,id=a",
            "-device",
            "rtl8139,netdev=a",
            "-netdev",
            "user,id=b",
            "-device",
            "ne2k_pci,netdev=b",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    };
    let guest = boot_with("pci-isolation", &cfg);
    let r = run_until(&guest, "TEST fault done");
    // The layout this test assumes (q35: the first card in slot 2): the rtl8139's ports at 0xc000, the ne2k's at 0xc100.
    seen(&guest, "[io] 00:02.0 10ec:8139 class 020000 irq 11 bar0 io 0xc000+0x100", STEP);
    seen(&guest, "[io] 00:03.0 10ec:8029 class 020000 irq 11 bar0 io 0xc100+0x100", STEP);
    // Each snoop task claims its own device, which works...
    let own: Vec<&TestLine> = r.iter().filter(|t| t.name == "pci.own_device").collect();
    assert_eq!(own.len(), 2, "{r:#?}");
    assert!(own.iter().all(|t| t.ok));
    // ...and moving a BAR, or mapping device memory outside its BARs, is refused.
    assert!(r.iter().filter(|t| t.name == "pci.bar_write_refused").all(|t| t.ok));
    assert_eq!(r.iter().filter(|t| t.name == "pci.bar_write_refused").count(), 2);
    passed(&r, "pci.mmio_outside_refused");
    assert!(guest.lines().iter().any(|l| l.contains("[io] WARN refused: snoop-config-ports writing")));
    // The kernel reported the refused device memory to the parent, and stopped
    // each task when it reached for the configuration ports or the other
    // device's ports.
    let events = |task: &str| -> Vec<(String, u64)> {
        r.iter()
            .filter(|t| t.name == format!("fault.{task}"))
            .map(|t| (t.field("cause").to_string(), t.num("addr")))
            .collect()
    };
    assert_eq!(
        events("snoop-config-ports"),
        [("mmio-denied".to_string(), 0xfd00_0000), ("io-port".to_string(), 0xcfc)]
    );
    assert_eq!(events("snoop-foreign-ports"), [("io-port".to_string(), 0xc000)]);
    assert_eq!(r.iter().filter(|t| t.name == "fault.others_alive" && t.ok).count(), 2);
}

#[test]
fn e1000_with_linux_e1000() {
    check_nic("e1000", "e1000", "Intel(R) PRO/1000 Network Connection");
}

#[test]
fn pcnet_with_linux_pcnet32() {
    check_nic("pcnet", "pcnet32", "PCnet/PCI II 79C970A");
}

#[test]
fn e1000e_with_linux_e1000e() {
    // QEMU's 82574L (8086:10d3) on its PCI Express link; the driver's own
    // banner, then the card it found.
    let guest = check_nic("e1000e", "e1000e", "eth0: Intel(R) PRO/1000 Network Connection");
    // On its INTx line, as its driver manifest says (`msi = false`): MSI-X
    // and MSI are refused and the driver falls back.
    assert!(!on_msix(&guest, "e1000e", 3), "{}", guest.tail(40));
    assert!(guest.lines().iter().any(|l| l.contains("Falling back to legacy interrupts")), "{}", guest.tail(40));
}

#[test]
fn virtio_net_with_linux_virtio_net() {
    // QEMU's virtio-net-pci, modern only and through the DMA API (the host
    // tool gives it disable-legacy=on,iommu_platform=on), driven by Linux's
    // virtio_net on Linux's virtio core: virtio_pci binds the PCI device and
    // adds a virtio device to the virtio bus, whose match probes virtio_net.
    // virtio_net says nothing at probe; the network device it registered is
    // the one attached to netd.
    let guest = check_nic("virtio-net-pci", "virtio", "eth0 attached to netd: 52:54:00:12:34:56 mtu 1500");
    // On MSI-X: the configuration vector and one per virtqueue with a
    // callback (receive, transmit).
    assert!(on_msix(&guest, "virtio", 3), "{}", guest.tail(40));
}

#[test]
fn i82557b_with_linux_e100() {
    // QEMU's i82557b (an 82557, so e100 keeps the standard transmit command
    // block and loads no microcode), driven by Linux's e100 with its DMA
    // pool of command blocks and its receive frames in DMA-mapped skbs, on
    // q35 with every DMA through the IOMMU.
    check_nic("i82557b", "e100", "MAC addr 52:54:00:12:34:56");
}
