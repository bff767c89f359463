//! Heartbeats: a thread pings each running driver's `control` endpoint; a
//! driver that does not answer within two periods is reported to the main
//! thread, which restarts it. Pinging on a thread of its own keeps the server
//! answering requests while a hung driver makes a ping wait.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use reincarnation::proto::control;
use rt::obj::{Factory, Irq, Thread};
use rt::{CapIdx, Timeout, ipc};

/// Most services one server watches.
const MAX: usize = 64;

pub struct Pings {
    /// Per service: the incarnation to ping (0: not running).
    running: [AtomicU64; MAX],
    /// Per service: the incarnation that missed its heartbeats (0: none).
    failed: [AtomicU64; MAX],
    /// Per service: the `control` gate of the running instance, where it has
    /// one of its own (0: the one given at start).
    control: [AtomicU64; MAX],
    count: usize,
}

impl Pings {
    /// Tells the thread which services run (and which incarnation).
    pub fn publish(&self, running: &[(bool, u64)]) {
        for (i, &(up, inc)) in running.iter().enumerate().take(self.count) {
            self.running[i].store(if up { inc } else { 0 }, Ordering::Release);
        }
    }

    /// Services that missed their heartbeats, with the incarnation that did.
    pub fn take_failures(&self) -> Vec<(usize, u64)> {
        (0..self.count)
            .filter_map(|i| match self.failed[i].swap(0, Ordering::AcqRel) {
                0 => None,
                inc => Some((i, inc)),
            })
            .collect()
    }
}

rt::fiasco_only! {
    impl Pings {
        /// The `control` gate of service `i`'s next instances (on Fiasco.OC
        /// the server makes one per instance).
        pub fn set_control(&self, i: usize, gate: CapIdx) {
            if let Some(c) = self.control.get(i) {
                c.store(gate.0 as u64, Ordering::Release);
            }
        }
    }
}

struct Target {
    control: CapIdx,
    period_ms: u64,
}

/// Starts the heartbeat thread for the services that serve `control` and set a
/// period (`heartbeat-ms` in their manifest values): per service, its
/// `control` gate and the period in ms, or `None`.
pub fn start(services: Vec<Option<(CapIdx, u64)>>, label: u64) -> &'static Pings {
    let pings: &'static Pings = alloc::boxed::Box::leak(alloc::boxed::Box::new(Pings {
        running: [const { AtomicU64::new(0) }; MAX],
        failed: [const { AtomicU64::new(0) }; MAX],
        control: [const { AtomicU64::new(0) }; MAX],
        count: services.len().min(MAX),
    }));
    let targets: Vec<Option<Target>> = services
        .into_iter()
        .take(MAX)
        .map(|s| s.filter(|&(_, period)| period > 0).map(|(control, period_ms)| Target { control, period_ms }))
        .collect();
    if targets.iter().all(Option::is_none) {
        return pings;
    }
    let alarm = Factory::own().create_irq().expect("heartbeat IRQ");
    alarm.attach(&Thread::own_main(), label).expect("attach");
    let tick = targets.iter().flatten().map(|t| t.period_ms).min().unwrap_or(1000);
    rt::thread::spawn(200, 32 << 10, move || run(pings, targets, alarm, tick)).expect("heartbeat thread");
    pings
}

fn run(pings: &'static Pings, targets: Vec<Option<Target>>, alarm: Irq, tick: u64) -> ! {
    let mut last = alloc::vec![0u64; targets.len()];
    loop {
        ipc::sleep_ms(tick as u32);
        let now = rt::time::ticks();
        for (i, t) in targets.iter().enumerate() {
            let Some(t) = t else { continue };
            let inc = pings.running[i].load(Ordering::Acquire);
            if inc == 0 || now.saturating_sub(last[i]) < t.period_ms {
                continue;
            }
            last[i] = now;
            // Two periods to answer, as MINIX allows.
            let wait = Timeout::Millis((2 * t.period_ms) as u32);
            let gate = match pings.control[i].load(Ordering::Acquire) {
                0 => t.control,
                c => CapIdx(c as u32),
            };
            let answered =
                ipc::encode_call(&control::Request::Ping {}).and_then(|tag| ipc::call(gate, tag, wait)).is_ok();
            // The instance may have been replaced while we waited: only the one
            // we pinged can be blamed.
            if !answered && pings.running[i].load(Ordering::Acquire) == inc {
                pings.failed[i].store(inc, Ordering::Release);
                let _ = alarm.trigger();
            }
        }
    }
}
