//! When a restarted driver reached each step of coming back, so that a
//! recovery time can be taken apart: the task running its first line, the
//! driver's probe done, the device attached to netd's rings, the device open.
//!
//! Each step is stamped once, in the task's ticks (milliseconds); the
//! recovery line ([`crate::net`]) gives them in milliseconds after the
//! failure (`fault-ticks`, set by the reincarnation server), as
//! `(running at A, probed at B, attached at C, open at D)`.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

/// A step of a driver instance's start, in the order it takes them.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Running,
    Probed,
    Attached,
    Open,
}

impl Step {
    const ALL: [Step; 4] = [Step::Running, Step::Probed, Step::Attached, Step::Open];

    const fn name(self) -> &'static str {
        match self {
            Step::Running => "running",
            Step::Probed => "probed",
            Step::Attached => "attached",
            Step::Open => "open",
        }
    }
}

/// The tick each step was reached at, plus one (0: not reached).
static AT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Stamps `step` with the current tick, the first time only.
pub fn reached(step: Step) {
    let _ = AT[step as usize].compare_exchange(0, rt::time::ticks() + 1, Ordering::AcqRel, Ordering::Relaxed);
}

/// `running at A, probed at B, attached at C, open at D`: each step reached,
/// in milliseconds after `fault`.
pub fn after(fault: u64) -> String {
    let mut out = String::new();
    for step in Step::ALL {
        let at = AT[step as usize].load(Ordering::Acquire);
        if at == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&format!("{} at {}", step.name(), (at - 1).saturating_sub(fault)));
    }
    out
}
