//! Shared by the self-test tasks: how they report, and the tiny protocol the IPC
//! tests speak.
//!
//! Results are log lines the host's integration tests parse:
//! `TEST <name> ok key=value ...` or `TEST <name> FAIL <why>`.
#![no_std]

pub mod proto {
    /// Reply with the words received.
    pub const ECHO: i64 = 1;
    /// Reply with `mr[0] + 1`.
    pub const INCREMENT: i64 = 2;
    /// The message carries an IRQ capability: trigger it, then reply.
    pub const TRIGGER_CAP: i64 = 3;
    /// Sleep `mr[0]` milliseconds, then reply.
    pub const SLOW: i64 = 4;
    /// Exit without replying.
    pub const DIE: i64 = 5;
}

/// Reports one test result as a log line.
#[macro_export]
macro_rules! check {
    ($name:expr, $cond:expr, $($detail:tt)*) => {{
        let ok: bool = $cond;
        if ok {
            rt::info!("TEST {} ok {}", $name, format_args!($($detail)*));
        } else {
            rt::error!("TEST {} FAIL {}", $name, format_args!($($detail)*));
        }
        ok
    }};
}

/// Median of a sample set (sorts it).
pub fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    if v.is_empty() { 0 } else { v[v.len() / 2] }
}

/// What the garbage-throwing tasks (`chaos`, `fuzz`) share: a small
/// reproducible generator and the kernel's protocol labels.
pub mod garbage {
    use rt::sys::proto;

    /// xorshift64: reproducible from its seed, which must not be zero.
    pub struct XorShift(pub u64);

    impl XorShift {
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }

        /// A message label: one in eight random, the rest a kernel protocol's.
        pub fn label(&mut self) -> i64 {
            if self.below(8) == 0 { self.next_u64() as i64 } else { LABELS[self.below(LABELS.len() as u64) as usize] }
        }
    }

    /// Every kernel object protocol's label, and 0 and 1.
    pub const LABELS: [i64; 13] = [
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
}

/// The device description of the io OPEN reply just received (the hostile
/// tests call io by hand, with receive slots of their own); a reply that is
/// not one ends the test task.
pub fn open_reply() -> protocols::pci::DeviceInfo {
    let words = rt::ipc::received(protocols::pci::INFO_WORDS);
    match protocols::status::decode_reply::<protocols::pci::DeviceInfo, protocols::pci::Error>(&words) {
        Ok(info) => info,
        Err(_) => rt::exit(2, "io's OPEN reply is not a device description"),
    }
}
