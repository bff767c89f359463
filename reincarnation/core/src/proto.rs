//! Messages of the reincarnation server's `svc` endpoint and of the `control`
//! endpoint every supervised driver serves.

/// `svc`: operators (the shell, `resurgo svc`, httpd) and complaining servers.
pub mod svc {
    /// Every reply's `mr[0]` is a status word ([`protocols::status`]): a
    /// value, or an [`Error`].
    ///
    /// Status of the `n`-th service. in: `[n]`. out: `[state code, incarnation,
    /// restarts, failures in window, name len, name bytes (4 words), cause len,
    /// cause bytes...]`, or [`Error::NoService`] past the last service.
    pub const STATUS: i64 = 0x5301;
    /// in: `[name len, name bytes...]`; out: `[0]` or an [`Error`].
    pub const RESTART: i64 = 0x5302;
    pub const KILL: i64 = 0x5303;
    pub const DOWN: i64 = 0x5304;
    pub const UP: i64 = 0x5305;
    /// A server reports a driver misbehaving (netd: transmit ring stalled).
    /// in: `[name len, name bytes (4 words), reason len, reason bytes...]`.
    pub const COMPLAIN: i64 = 0x5306;
    /// Fault injection through the server. in: `[name len, name bytes (4
    /// words), kind]` (see [`super::control`]).
    pub const INJECT: i64 = 0x5307;
    /// Software-implemented fault injection: patch the running driver's text
    /// through the kernel's debugging right (the server holds it on the tasks
    /// it starts when the manifest gives it `debug = true`). Needs the
    /// `inject` grant. in: `[name len, name bytes (4 words), incarnation,
    /// address, len, bytes...]` with `len <= POKE_MAX`; the incarnation (0:
    /// whichever runs) must be the running one, so that a patch meant for an
    /// instance that has died never reaches its successor. out: `[0, old
    /// bytes...]`, [`Error::State`] when that instance does not run, or
    /// `[Error::Kernel, kernel error code]` when the kernel refused the patch
    /// (not the driver's text, no debugging right), or another [`Error`].
    pub const POKE: i64 = 0x5308;
    /// The most bytes one [`POKE`] patches.
    pub const POKE_MAX: usize = 32;

    protocols::errors! {
        /// Why the server did not do what an `svc` request asked.
        pub enum Error (undefined = Malformed) {
            /// The caller's manifest grants it no such verb on this service.
            Denied = -1 => "not permitted by the manifest",
            /// No service of that name (or past the last, for STATUS).
            NoService = -2 => "no such service",
            /// The kernel refused; its `l4_sys::Error` code follows in `mr[1]`.
            Kernel = -5 => "the kernel refused",
            /// The service is not in a state for it: not running, or not the
            /// instance named.
            State = -16 => "not running",
            /// Too few words, a bad name, a length out of range.
            Malformed = -22 => "malformed request",
            /// A label the endpoint does not serve.
            UnknownCall = -38 => "no such call",
        }
    }

    /// One patch of the console's `svc poke NAME ADDR:HEX...`: the address
    /// in hex and the new bytes in hex (1 to [`POKE_MAX`] of them).
    pub fn parse_patch(word: &str) -> Option<(u64, ([u8; POKE_MAX], usize))> {
        let (addr, hex) = word.split_once(':')?;
        let addr = u64::from_str_radix(addr.trim_start_matches("0x"), 16).ok()?;
        if hex.is_empty() || hex.len() % 2 != 0 || hex.len() / 2 > POKE_MAX {
            return None;
        }
        let mut bytes = [0u8; POKE_MAX];
        for (k, b) in bytes[..hex.len() / 2].iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()?;
        }
        Some((addr, (bytes, hex.len() / 2)))
    }

    /// A call's name in messages.
    pub fn verb_name(call: i64) -> &'static str {
        match call {
            STATUS => "list",
            RESTART => "restart",
            KILL => "kill",
            DOWN => "down",
            UP => "up",
            COMPLAIN => "complain about",
            INJECT => "inject a fault into",
            POKE => "patch the text of",
            _ => "call",
        }
    }

    /// The operators' verbs (`svc VERB NAME` on the console, `POST
    /// /svc/VERB/NAME`): the call and its argument word.
    pub fn operation(verb: &str) -> Option<(i64, u64)> {
        use super::control;
        Some(match verb {
            "restart" => (RESTART, 0),
            "kill" => (KILL, 0),
            "down" => (DOWN, 0),
            "up" => (UP, 0),
            "crash-irq" => (INJECT, control::INJECT_CRASH_IRQ),
            "hang-irq" => (INJECT, control::INJECT_HANG_IRQ),
            "crash" => (INJECT, control::INJECT_CRASH_NOW),
            _ => return None,
        })
    }
}

/// `control`: the supervisor's line into a driver task.
pub mod control {
    /// Heartbeat: answered by the driver's main loop, so a driver stuck in a
    /// loop (or starved by its own spinning thread) does not answer.
    pub const PING: i64 = 0x4301;
    /// Fault injection (tests and the restart benchmark). in: `[kind]`.
    pub const INJECT: i64 = 0x4302;
    /// The next interrupt handler invocation faults (a wild write).
    pub const INJECT_CRASH_IRQ: u64 = 1;
    /// The next interrupt handler invocation spins forever.
    pub const INJECT_HANG_IRQ: u64 = 2;
    /// Fault at once, on the main thread.
    pub const INJECT_CRASH_NOW: u64 = 3;
}

pub use protocols::name::{pack as pack_name, unpack as unpack_name};

#[cfg(test)]
mod tests {
    #[test]
    fn operator_verbs() {
        use super::{control, svc};
        assert_eq!(svc::operation("kill"), Some((svc::KILL, 0)));
        assert_eq!(svc::operation("crash"), Some((svc::INJECT, control::INJECT_CRASH_NOW)));
        assert_eq!(svc::operation("crash-irq"), Some((svc::INJECT, control::INJECT_CRASH_IRQ)));
        assert_eq!(svc::operation("list"), None);
    }

    use super::*;

    #[test]
    fn patches_parse_and_garbage_is_refused() {
        let (addr, (b, n)) = svc::parse_patch("0x4012ab:90c3").unwrap();
        assert_eq!((addr, &b[..n]), (0x4012ab, &[0x90, 0xc3][..]));
        assert_eq!(svc::parse_patch("10:ff").map(|(a, (_, n))| (a, n)), Some((0x10, 1)));
        for bad in ["4012ab", "4012ab:", "4012ab:9", "zz:90", "10:9g", "10:é0", &format!("10:{}", "90".repeat(33))] {
            assert!(svc::parse_patch(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn svc_errors_round_trip() {
        protocols::status::check_round_trip::<svc::Error>();
    }

    #[test]
    fn names_round_trip_and_garbage_is_refused() {
        let mut w = [0u64; 4];
        let n = pack_name("eth-8139cp", &mut w);
        let (b, len) = unpack_name(n as u64, &w).unwrap();
        assert_eq!(core::str::from_utf8(&b[..len]).unwrap(), "eth-8139cp");
        assert!(unpack_name(33, &w).is_none());
        assert!(unpack_name(8, &[u64::MAX]).is_none(), "not UTF-8");
    }
}
