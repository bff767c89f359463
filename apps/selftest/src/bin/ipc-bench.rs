//! Kernel micro-benchmarks, run under `-icount shift=0` where the guest TSC
//! counts guest instructions: IPC round trip, interrupt to user thread, task
//! restart. Prints `BENCH key=value` lines for `resurgo bench ipc`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use rt::obj::{Factory, Irq, KernelCap, Thread};
use rt::time::rdtsc;
use rt::{MsgTag, Timeout, ipc};
use selftest::median;

rt::entry!(main);

/// Defaults; the manifest may set `round-trips`, `interrupts`, `restarts`.
const ROUND_TRIPS: u64 = 20_000;
const INTERRUPTS: u64 = 200;
const RESTARTS: u64 = 30;

fn main() {
    let round_trips = rt::env::value("round-trips").unwrap_or(ROUND_TRIPS) as usize;
    let interrupts = rt::env::value("interrupts").unwrap_or(INTERRUPTS) as usize;
    let restarts = rt::env::value("restarts").unwrap_or(RESTARTS) as usize;
    let server = rt::env::require_cap("bench-server.main");
    let kernel = KernelCap(rt::env::require_cap("kernel"));

    // IPC round trip: call + reply between two address spaces, one word each way.
    for _ in 0..100 {
        let _ = ipc::call(server, MsgTag::new(0, 1, 0), Timeout::Never);
    }
    let mut samples = Vec::with_capacity(round_trips);
    for _ in 0..round_trips {
        let t0 = rdtsc();
        let r = ipc::call(server, MsgTag::new(0, 1, 0), Timeout::Never);
        let t1 = rdtsc();
        if r.is_ok() {
            samples.push(t1 - t0);
        }
    }
    let n = samples.len();
    let min = samples.iter().copied().min().unwrap_or(0);
    rt::info!(
        "BENCH ipc_roundtrip_instructions={} ipc_roundtrip_min={} ipc_roundtrips={}",
        median(&mut samples),
        min,
        n
    );

    // Interrupt to user: from the kernel's entry for the RTC's line 8 to this
    // thread running with the message.
    let irq = Irq(rt::env::require_cap("irq.8"));
    irq.attach(&Thread::own_main(), 8).expect("attach");
    rtc_periodic(true);
    let mut samples = Vec::with_capacity(interrupts);
    while samples.len() < interrupts {
        if irq.wait(Timeout::Millis(2000)).is_err() {
            rt::error!("the RTC stopped interrupting");
            break;
        }
        let woke = rdtsc();
        let entry = kernel.irq_entry_tsc(8).unwrap_or(woke);
        let _ = cmos(0x0c, None);
        let _ = irq.unmask();
        samples.push(woke.saturating_sub(entry));
    }
    rtc_periodic(false);
    rt::info!("BENCH irq_to_user_instructions={} irq_samples={}", median(&mut samples), samples.len());

    // Task restart: kill a running task and start it again from its image until
    // its first instruction has run and it called us.
    let boot = boot::Boot::open().expect("boot archive");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), 0xe).expect("attach");
    let mut child = boot::spawn_child(&boot, "restart-target", Some(events)).expect("spawn");
    await_ready();
    let mut samples = Vec::with_capacity(restarts);
    for _ in 0..restarts {
        let t0 = rdtsc();
        child.task.kill().expect("kill");
        child.destroy();
        child = boot::spawn_child(&boot, "restart-target", Some(events)).expect("spawn");
        await_ready();
        samples.push(rdtsc() - t0);
        // The kill notification.
        let _ = ipc::receive(events.0, Timeout::Zero);
    }
    rt::info!("BENCH task_restart_instructions={} restart_samples={}", median(&mut samples), samples.len());
    rt::info!("BENCH done");
    kernel.shutdown(0);
}

fn await_ready() {
    loop {
        match ipc::wait(Timeout::Millis(5000)) {
            Ok(m) if m.label != 0xe => {
                let _ = ipc::reply(MsgTag::new(0, 0, 0));
                return;
            }
            Ok(_) => continue,
            Err(e) => panic!("restart target did not start: {e}"),
        }
    }
}

fn cmos(reg: u8, value: Option<u8>) -> u8 {
    // SAFETY: ports 0x70-0x71 are granted to this task by its manifest.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") reg, options(nomem, nostack));
        match value {
            Some(v) => {
                core::arch::asm!("out 0x71, al", in("al") v, options(nomem, nostack));
                v
            }
            None => {
                let v: u8;
                core::arch::asm!("in al, 0x71", out("al") v, options(nomem, nostack));
                v
            }
        }
    }
}

fn rtc_periodic(on: bool) {
    let b = cmos(0x0b, None);
    if on {
        cmos(0x0a, Some((cmos(0x0a, None) & 0xf0) | 10));
        cmos(0x0b, Some(b | 0x40));
        cmos(0x0c, None);
    } else {
        cmos(0x0b, Some(b & !0x40));
    }
}
