//! Generated traps in QEMU: a legacy driver (drivers-legacy/trapdemo) calls,
//! at probe, a function neither the shim, DDEKit nor the runtime define. The
//! build linked a trap in its place; the call ends the driver task, and the
//! reincarnation server's log and `svc list` name the function.

mod common;

use common::*;
use resurgo::qemu::{NetConfig, QemuConfig};

const REASON: &str = "called unimplemented `trapdemo_missing_function`";

#[test]
fn a_call_to_a_missing_function_ends_the_driver_with_its_name() {
    let cfg = QemuConfig { netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![] }), ..Default::default() };
    let mut guest = boot_with("traps", &cfg);
    // The driver's own line, then the trap's, from the driver's task.
    seen(&guest, "[eth-trapdemo] trapdemo: probing 0000:00:02.0", STEP);
    let own = seen(&guest, "[eth-trapdemo] ERROR called unimplemented `trapdemo_missing_function` (from 0x", STEP);
    assert!(own.contains("the shim lacks it"), "{own}");
    // The supervisor got the reason with the task's exit.
    let failed = seen(&guest, "[reincarnation] WARN eth-trapdemo failed: exit 3 at ", STEP);
    assert!(failed.ends_with(REASON), "{failed}");
    // `svc list` shows it as the driver's last fault.
    guest.wait_line("[shell] type `svc list`", STEP).unwrap();
    guest.send_line("svc list").unwrap();
    let row = guest.wait_for(|l| l.starts_with("[shell] eth-trapdemo "), STEP).unwrap();
    assert!(row.contains(REASON), "{row}");
}
