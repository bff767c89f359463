//! Throws garbage at the kernel: random selectors, flags, labels, operation
//! numbers, message words, buffer registers and timeouts, in a loop. The kernel
//! must answer each with an error or a result and never go down. The task may
//! well hurt itself (it can reach its own task and thread); its parent starts it
//! again.
#![no_std]
#![no_main]

use rt::obj::Factory;
use rt::sys::syscall::invoke;
use rt::sys::{proto, utcb::BR_RECV_CAP};
use rt::{CapIdx, MsgTag, ipc};

rt::entry!(main);

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LABELS: [i64; 13] = [
    0,
    1,
    proto::PROTO_IRQ,
    proto::PROTO_KOBJECT,
    proto::PROTO_TASK,
    proto::PROTO_THREAD,
    proto::PROTO_LOG,
    proto::PROTO_FACTORY,
    proto::PROTO_IRQ_SENDER,
    proto::PROTO_DATASPACE,
    proto::PROTO_ICU,
    proto::PROTO_IO_PORTS,
    proto::PROTO_KERNEL,
];

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
        let label = if rng.below(8) == 0 { rng.next() as i64 } else { LABELS[rng.below(LABELS.len() as u64) as usize] };
        let words = rng.below(70) as usize;
        let items = if rng.below(10) == 0 { rng.below(70) as usize } else { 0 };
        let mr = ipc::mr();
        mr[0] = rng.below(16);
        for w in mr.iter_mut().skip(1).take(8) {
            *w = match rng.below(4) {
                0 => rng.below(64),
                1 => rng.below(1100),
                2 => rng.next() & 0x7fff_ffff_f000,
                _ => rng.next(),
            };
        }
        ipc::utcb().br[BR_RECV_CAP] = (256 + rng.below(300)) << 12;
        let flags = rng.below(16);
        // Timeouts mostly zero, rarely a millisecond: never wait forever.
        let timeouts = if rng.below(64) == 0 { (1 << 32) | 1 } else { 0 };
        let tag = MsgTag::new(label, words, items);
        let _ = invoke(CapIdx(slot), rt::sys::syscall::Flags::from_bits_truncate(flags), tag, timeouts);
    }
    rt::exit(0, "survived all its rounds");
}
