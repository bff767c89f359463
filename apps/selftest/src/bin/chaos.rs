//! Throws garbage at the kernel: random selectors, flags, labels, operation
//! numbers, message words, buffer registers and timeouts, in a loop. The kernel
//! must answer each with an error or a result and never go down. The task may
//! well hurt itself (it can reach its own task and thread); its parent starts it
//! again.
#![no_std]
#![no_main]

use rt::obj::Factory;
use rt::sys::syscall::invoke;
use rt::sys::utcb::BR_RECV_CAP;
use rt::{CapIdx, MsgTag, ipc};

use selftest::garbage::XorShift;

rt::entry!(main);

fn main() {
    let rounds = rt::env::value("rounds").unwrap_or(20_000);
    let mut rng = XorShift(rt::time::rdtsc() | 1);
    // A few objects of its own to aim at, besides empty slots and its own task,
    // thread, factory and log.
    let f = Factory::own();
    let _ = f.create_irq();
    let _ = f.create_gate(None, 7);
    let _ = f.create_dataspace(8192, false);
    let _ = f.create_dataspace(4096, true);
    let _ = rt::thread::spawn(10, 16 << 10, || {
        loop {
            ipc::sleep_ms(5);
        }
    });
    for _ in 0..rounds {
        // Mostly slots that exist (1..20 and the runtime's 256..270), some empty.
        let slot = match rng.below(4) {
            0 => rng.below(1100) as u32,
            1 => 1 + rng.below(19) as u32,
            _ => 256 + rng.below(14) as u32,
        };
        let label = rng.label();
        let words = rng.below(70) as usize;
        let items = if rng.below(10) == 0 { rng.below(70) as usize } else { 0 };
        let mut mr = [0u64; 9];
        mr[0] = rng.below(16);
        for w in mr.iter_mut().skip(1) {
            *w = match rng.below(4) {
                0 => rng.below(64),
                1 => rng.below(1100),
                2 => rng.next_u64() & 0x7fff_ffff_f000,
                _ => rng.next_u64(),
            };
        }
        let _ = ipc::write_mrs(0, &mr);
        ipc::write_brs(BR_RECV_CAP, &[(256 + rng.below(300)) << 12]);
        let flags = rng.below(16);
        // Timeouts mostly zero, rarely a millisecond: never wait forever.
        let timeouts = if rng.below(64) == 0 { (1 << 32) | 1 } else { 0 };
        let tag = MsgTag::new(label, words, items);
        let _ = invoke(CapIdx(slot), rt::sys::syscall::Flags::from_bits_truncate(flags), tag, timeouts);
    }
    rt::exit(0, "survived all its rounds");
}
