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
