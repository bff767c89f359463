//! The task around one legacy Linux driver: the generic part.
//!
//! It runs the driver's initcalls (which probe the device the io server gives
//! this task), then hands the task to the device class whose device the probe
//! registered ([`crate::class`]), which serves it for the rest of the task's
//! life. What every class shares is here: the answers to the reincarnation
//! server on the `control` endpoint (heartbeats, fault injection) and the
//! fault-injection hooks of the shim's generic layer
//! (`include/resurgo/host.h`).

use crate::bindings;
use crate::class;
use crate::timeline::{self, Step};
use core::sync::atomic::{AtomicU64, Ordering};
use protocols::status;
use reincarnation_core::proto::control;
use rt::{MsgTag, ipc};

pub fn main() {
    timeline::reached(Step::Running);
    for c in class::ALL {
        c.prepare();
    }
    // SAFETY: runs the driver's initcalls once, on the main thread.
    let failed = unsafe { bindings::dde_linux_init() };
    timeline::reached(Step::Probed);
    rt::debug!("initcalls done, {} failed", failed);
    match class::ALL.iter().find(|c| c.devices() > 0) {
        Some(c) => {
            rt::debug!("{} device(s) of the {} class registered", c.devices(), c.name());
            c.serve()
        }
        None => {
            rt::info!("no {} device registered: nothing to do", class::names());
            rt::exit(0, "no device");
        }
    }
}

/// A message on the `control` endpoint, which every class's main loop
/// passes here. Heartbeats are answered only by that loop, so a driver stuck
/// in it, or starved by its own spinning interrupt thread, misses them.
pub fn control(tag: MsgTag) -> MsgTag {
    let answer = |r: Result<(), control::Error>| {
        ipc::set_mr::<0>(status::encode(r.map(|()| 0)));
        MsgTag::new(0, 1, 0)
    };
    match ipc::decode_call::<control::Request>(tag) {
        Ok(control::Request::Ping {}) => answer(Ok(())),
        Ok(control::Request::Inject { kind }) => {
            match kind {
                control::INJECT_CRASH_IRQ | control::INJECT_HANG_IRQ => {
                    rt::info!(
                        "fault injection armed: the next interrupt {}",
                        if kind == control::INJECT_HANG_IRQ { "hangs" } else { "crashes" }
                    );
                    INJECT.store(kind, Ordering::Release);
                }
                control::INJECT_CRASH_NOW => crash_now(),
                _ => return answer(Err(control::Error::Invalid)),
            }
            answer(Ok(()))
        }
        Err(_) => answer(Err(control::Error::Invalid)),
    }
}

/// An injected fault on the main thread.
#[inline(never)]
fn crash_now() -> ! {
    // SAFETY: deliberately faulting: fault injection for tests and benchmarks.
    unsafe { core::ptr::write_volatile(WILD as *mut u64, 0) };
    unreachable!("the wild write faults")
}

/// An address nothing maps: a fault there names the function that used it.
const WILD: u64 = 0x0000_0dea_d000_0000;

/// The fault armed by the reincarnation server for the next interrupt.
static INJECT: AtomicU64 = AtomicU64::new(0);

/// Passes the PCI device to the driver's probe, or a wild pointer when the
/// manifest asks for a probe that always faults.
#[unsafe(no_mangle)]
pub extern "C" fn resurgo_probe_inject(dev: *mut bindings::pci_dev) -> *mut bindings::pci_dev {
    if rt::env::value("inject-probe-fault") == Some(1) {
        rt::info!("fault injection: the probe gets a wild device pointer");
        return WILD as *mut bindings::pci_dev;
    }
    dev
}

/// Passes an interrupt handler's `dev_id` on, or poisons it when a crash is
/// armed (the driver's own handler then faults on it), or spins when a hang is.
#[unsafe(no_mangle)]
pub extern "C" fn resurgo_irq_inject(
    _irq: core::ffi::c_uint,
    dev_id: *mut core::ffi::c_void,
) -> *mut core::ffi::c_void {
    match INJECT.swap(0, Ordering::AcqRel) {
        0 => dev_id,
        control::INJECT_CRASH_IRQ => WILD as *mut core::ffi::c_void,
        _ => loop {
            core::hint::spin_loop();
        },
    }
}
