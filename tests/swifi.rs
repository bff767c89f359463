//! Software-implemented fault injection: the kernel's debugging right as the
//! console reaches it (`svc poke`), and a short `bench swifi` campaign in both
//! restart modes that must end with no kernel crash, no other task failed, no
//! client error and the echo stream intact.

mod common;

use common::*;
use resurgo::bench_restart::Mode;
use resurgo::bench_swifi::{self, SwifiOptions, TrialOptions};
use resurgo::qemu::{NetConfig, QemuConfig};
use std::time::Duration;

#[test]
fn svc_poke_patches_only_the_running_drivers_own_text() {
    let cfg = QemuConfig { netdev: Some(NetConfig::new("rtl8139")), ..Default::default() };
    let image = resurgo::image::build(&resurgo::image::BuildOptions {
        manifest: resurgo::workspace_root().join("system/default.toml"),
        progress: false,
    })
    .unwrap();
    let mut guest = resurgo::qemu::Guest::boot(&image, &cfg).unwrap();
    seen(&guest, "eth-8139cp up ", STEP);
    seen(&guest, "[shell] type `svc list`", STEP);
    let text = bench_swifi::driver_text(&image, "eth-8139cp").unwrap();
    let f = text.functions.iter().find(|f| f.name == "cp_get_drvinfo").expect("a Linux function of 8139cp");
    let at = (f.start - text.base) as usize;
    let want: String = text.bytes[at..at + 2].iter().map(|b| format!("{b:02x}")).collect();
    let elf = std::fs::read(&image.binaries["drv-8139cp"]).unwrap();
    let data = object::File::parse(&elf[..]).unwrap();
    let writable = object::Object::section_by_name(&data, ".data")
        .or_else(|| object::Object::section_by_name(&data, ".bss"))
        .map(|s| object::ObjectSection::address(&s))
        .expect("a data section");

    // Text: patched, and the answer names the image's bytes.
    guest.send_line(&format!("svc poke eth-8139cp {:x}:cccc", f.start)).unwrap();
    seen(&guest, &format!("svc poke eth-8139cp {:#x}: was {want}", f.start), STEP);
    // The same bytes again: what the first patch wrote.
    guest.send_line(&format!("svc poke eth-8139cp {:x}:{want}", f.start)).unwrap();
    seen(&guest, &format!("svc poke eth-8139cp {:#x}: was cccc", f.start), STEP);
    // Data, an unmapped page, the kernel's half: refused, the driver unharmed.
    guest.send_line(&format!("svc poke eth-8139cp {writable:x}:00")).unwrap();
    seen(&guest, &format!("svc poke eth-8139cp {writable:#x}: refused by the kernel: denied"), STEP);
    guest.send_line("svc poke eth-8139cp 1000:00").unwrap();
    seen(&guest, "svc poke eth-8139cp 0x1000: refused by the kernel: bad address", STEP);
    guest.send_line("svc poke eth-8139cp ffff800000100000:00").unwrap();
    seen(&guest, "svc poke eth-8139cp 0xffff800000100000: refused by the kernel: bad address", STEP);
    // An instance that is not the running one, and garbage.
    guest.send_line(&format!("svc poke eth-8139cp @7 {:x}:90", f.start)).unwrap();
    seen(&guest, "svc poke eth-8139cp: not running", STEP);
    guest.send_line(&format!("svc poke eth-8139cp {:x}:{}", f.start, "90".repeat(33))).unwrap();
    seen(&guest, "is not ADDR:HEX", STEP);
    guest.send_line("svc list").unwrap();
    let row = seen(&guest, "[shell] eth-8139cp ", STEP);
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words[2..4], ["running", "1"], "the driver was never restarted: {row}");
}

#[test]
fn a_short_campaign_leaves_the_kernel_the_other_tasks_and_the_client_unharmed() {
    let opts = SwifiOptions {
        nics: vec!["rtl8139".into()],
        modes: Mode::ALL.to_vec(),
        faults: 1_500,
        minix_faults: 1_000,
        trial: TrialOptions { burst: 100, limit: Duration::from_millis(2_000) },
        seed: 7,
        machine: resurgo::qemu::Machine::default(),
        fiasco: None,
        progress: false,
    };
    assert_campaign_unharmed(&opts, &bench_swifi::run(&opts).unwrap());
}
