//! Shared by the data store's test tasks: reporting, waiting, raw calls.
//!
//! Results are log lines the host's integration test (`tests/datastore.rs`)
//! parses: `TEST store.<name> ok key=value ...` or `TEST store.<name> FAIL
//! ...`. Each task ends with `store-test: <task> finished`.
#![no_std]

use rt::obj::{Factory, Irq, Thread};
use rt::{CapIdx, MsgTag, Timeout, ipc};

/// Reports one test result as a log line.
#[macro_export]
macro_rules! check {
    ($name:expr, $cond:expr, $($detail:tt)*) => {{
        let ok: bool = $cond;
        if ok {
            rt::info!("TEST store.{} ok {}", $name, format_args!($($detail)*));
        } else {
            rt::error!("TEST store.{} FAIL {}", $name, format_args!($($detail)*));
        }
        ok
    }};
}

/// The store's client, or the end of the task.
pub fn store() -> datastore::Client {
    match datastore::Client::from_env() {
        Some(c) => c,
        None => rt::exit(1, "the manifest grants no datastore.store"),
    }
}

/// A software IRQ attached to the main thread with `label`.
pub fn notification_irq(label: u64) -> Irq {
    let irq = Factory::own().create_irq().expect("an IRQ object");
    irq.attach(&Thread::own_main(), label).expect("attach the IRQ");
    irq
}

/// Polls `f` every 20 ms until it holds or `ms` pass; whether it held.
pub fn wait_until(ms: u64, mut f: impl FnMut() -> bool) -> bool {
    let start = rt::time::ticks();
    loop {
        if f() {
            return true;
        }
        if rt::time::ticks() - start > ms {
            return false;
        }
        ipc::sleep_ms(20);
    }
}

/// Sends `words` with `label` (and `items` capability items after them)
/// straight to the store; returns the status word of the reply, or the IPC
/// error as a negative number below -1000.
pub fn raw_call(gate: CapIdx, label: i64, words: &[u64], items: &[[u64; 2]]) -> i64 {
    let mut mr = [0; ipc::MR_COUNT];
    let n = words.len() + 2 * items.len();
    if n > mr.len() {
        return -1000 - rt::Error::InvalidArgument as i64;
    }
    mr[..words.len()].copy_from_slice(words);
    for (i, it) in items.iter().enumerate() {
        mr[words.len() + 2 * i] = it[0];
        mr[words.len() + 2 * i + 1] = it[1];
    }
    let _ = ipc::write_mrs(0, &mr[..n]);
    match ipc::call(gate, MsgTag::new(label, words.len(), items.len()), Timeout::Millis(5000)) {
        Ok(r) if r.tag.words() > 0 => ipc::mr::<0>() as i64,
        Ok(_) => -999,
        Err(e) => -1000 - e as i64,
    }
}

/// Says the task is done.
pub fn finished() {
    rt::info!("store-test: {} finished", rt::env::name());
}

/// A small pseudo-random generator (xorshift), seeded from the TSC.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        Rng(rt::time::rdtsc() | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl Default for Rng {
    fn default() -> Rng {
        Rng::new()
    }
}
