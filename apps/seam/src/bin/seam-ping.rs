//! The client of the backend seam's cross-task IPC pair: calls `seam-pong`
//! (another address space) through the gate its manifest grants, one word
//! each way, and reports the TSC cycles per round trip (under QEMU's
//! `-icount shift=0`, guest instructions).
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

const WARMUP: u64 = 100;
const ROUNDS: u64 = 10_000;

fn main() {
    let Some(pong) = rt::env::cap("seam-pong.main") else {
        rt::info!("TEST seam.xipc FAIL error=\"no capability named seam-pong.main\"");
        return;
    };
    let mut best = u64::MAX;
    let mut total = 0;
    for i in 0..WARMUP + ROUNDS {
        ipc::set_mr::<0>(i);
        let t0 = rt::time::rdtsc();
        let r = ipc::call(pong, MsgTag::new(0, 1, 0), Timeout::Never);
        let t = rt::time::rdtsc().wrapping_sub(t0);
        match r {
            Ok(_) if ipc::mr::<0>() == i.wrapping_add(1) => {}
            Ok(_) => {
                rt::info!("TEST seam.xipc FAIL round={i} got={}", ipc::mr::<0>());
                return;
            }
            Err(e) => {
                rt::info!("TEST seam.xipc FAIL round={i} error=\"{e}\"");
                return;
            }
        }
        if i >= WARMUP {
            best = best.min(t);
            total += t;
        }
    }
    rt::info!("TEST seam.xipc ok rounds={ROUNDS} cycles_per_round_trip={} min={best}", total / ROUNDS);
}
