//! Messages of the reincarnation server's `svc` endpoint and of the `control`
//! endpoint every supervised driver serves.

/// `svc`: operators (the shell, `resurgo svc`, httpd) and complaining servers.
pub mod svc {
    use l4_sys::message::Bytes;

    /// Every reply's `mr[0]` is a status word ([`protocols::status`]): a
    /// value, or an [`Error`]. The requests are [`Request`], the status of a
    /// service [`StatusReply`]; a name or any other byte string travels as
    /// its length and then its bytes ([`Bytes`]).
    ///
    /// Status of the `n`-th service. out: [`StatusReply`], or
    /// [`Error::NoService`] past the last service.
    pub const STATUS: i64 = 0x5301;
    /// out: `[0]` or an [`Error`].
    pub const RESTART: i64 = 0x5302;
    pub const KILL: i64 = 0x5303;
    pub const DOWN: i64 = 0x5304;
    pub const UP: i64 = 0x5305;
    /// A server reports a driver misbehaving, with a reason.
    pub const COMPLAIN: i64 = 0x5306;
    /// Fault injection through the server: the kind is one of
    /// [`super::control`]'s.
    pub const INJECT: i64 = 0x5307;
    /// Software-implemented fault injection: patch the running driver's text
    /// through the kernel's debugging right (the server holds it on the tasks
    /// it starts when the manifest gives it `debug = true`). Needs the
    /// `inject` grant. At most `POKE_MAX` bytes; the incarnation (0:
    /// whichever runs) must be the running one, so that a patch meant for an
    /// instance that has died never reaches its successor. out:
    /// [`PokeReply`] (the bytes replaced), [`Error::State`] when that
    /// instance does not run, or `[Error::Kernel, kernel error code]` when
    /// the kernel refused the patch (not the driver's text, no debugging
    /// right), or another [`Error`].
    pub const POKE: i64 = 0x5308;
    /// The most bytes one [`POKE`] patches.
    pub const POKE_MAX: usize = 32;
    /// The longest reason a [`COMPLAIN`] gives.
    pub const REASON_MAX: usize = 32;
    /// The longest last cause a [`StatusReply`] carries.
    pub const CAUSE_MAX: usize = 320;

    /// A service's name.
    pub type Name = Bytes<{ protocols::name::MAX }>;

    l4_sys::calls! {
        /// A request on the `svc` endpoint.
        pub enum Request {
            Status (STATUS) { n: u64 },
            Restart (RESTART) { name: Name },
            Kill (KILL) { name: Name },
            Down (DOWN) { name: Name },
            Up (UP) { name: Name },
            Complain (COMPLAIN) { name: Name, reason: Bytes<REASON_MAX> },
            Inject (INJECT) { name: Name, kind: u64 },
            Poke (POKE) { name: Name, incarnation: u64, addr: u64, bytes: Bytes<POKE_MAX> },
        }
    }

    impl Request {
        /// The service a request names (`None` for STATUS).
        pub fn name(&self) -> Option<&Name> {
            match self {
                Request::Status { .. } => None,
                Request::Restart { name }
                | Request::Kill { name }
                | Request::Down { name }
                | Request::Up { name }
                | Request::Complain { name, .. }
                | Request::Inject { name, .. }
                | Request::Poke { name, .. } => Some(name),
            }
        }

        /// An operator's request by its call and argument word (see
        /// [`operation`]): `None` for a call that is not an operator's verb.
        pub fn command(call: i64, name: &str, arg: u64) -> Option<Request> {
            let name = Name::truncated(name);
            Some(match call {
                RESTART => Request::Restart { name },
                KILL => Request::Kill { name },
                DOWN => Request::Down { name },
                UP => Request::Up { name },
                INJECT => Request::Inject { name, kind: arg },
                COMPLAIN => Request::Complain { name, reason: Bytes::truncated("") },
                _ => return None,
            })
        }
    }

    l4_sys::reply! {
        /// The answer to STATUS: the status word (the state's code), then
        /// the service's figures, its name and its last failure's cause.
        pub struct StatusReply {
            state: u64,
            incarnation: u64,
            restarts: u64,
            failures_in_window: u64,
            name: Name,
        } bytes cause[CAUSE_MAX]
    }

    l4_sys::reply! {
        /// The answer to a POKE that the kernel carried out: status 0, then
        /// the bytes the patch replaced.
        pub struct PokeReply {
            status: u64,
        } bytes old[POKE_MAX]
    }

    impl From<l4_sys::Error> for Error {
        /// A label the endpoint does not have is an unknown call; a known
        /// one with the wrong words is malformed.
        fn from(e: l4_sys::Error) -> Error {
            protocols::status::refusal(e, Error::UnknownCall, Error::Malformed)
        }
    }

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
    /// Fault injection (tests and the restart benchmark).
    pub const INJECT: i64 = 0x4302;
    /// The next interrupt handler invocation faults (a wild write).
    pub const INJECT_CRASH_IRQ: u64 = 1;
    /// The next interrupt handler invocation spins forever.
    pub const INJECT_HANG_IRQ: u64 = 2;
    /// Fault at once, on the main thread.
    pub const INJECT_CRASH_NOW: u64 = 3;

    l4_sys::calls! {
        /// A request on a driver's `control` endpoint. The answer is a
        /// status word ([`protocols::status`]): 0, or an [`Error`].
        pub enum Request {
            Ping (PING) {},
            Inject (INJECT) { kind: u64 },
        }
    }

    protocols::errors! {
        /// Why a driver refused a `control` request.
        pub enum Error (undefined = Invalid) {
            /// An unknown label, the wrong words, or an unknown injection kind.
            Invalid = -22 => "invalid control request",
        }
    }
}

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
    fn svc_requests_round_trip_and_malformed_ones_are_refused() {
        use l4_sys::Error as E;
        use l4_sys::message::Bytes;
        let name = svc::Name::truncated("eth-8139cp");
        let all = [
            svc::Request::Status { n: 3 },
            svc::Request::Restart { name },
            svc::Request::Kill { name },
            svc::Request::Down { name },
            svc::Request::Up { name },
            svc::Request::Complain { name, reason: Bytes::truncated("tx ring stalled") },
            svc::Request::Inject { name, kind: control::INJECT_CRASH_IRQ },
            svc::Request::Poke { name, incarnation: 2, addr: 0x40_1000, bytes: Bytes::new(&[0x90, 0xc3]).unwrap() },
        ];
        for r in all {
            let mut mr = [0u64; 64];
            let n = r.encode(&mut mr).unwrap();
            assert!(n <= 63);
            assert_eq!(svc::Request::decode(r.label(), &mr[..n]), Ok(r));
            assert_eq!(svc::Request::decode(r.label(), &mr[..n + 1]), Err(E::InvalidArgument));
            assert_eq!(svc::Request::decode(r.label(), &mr[..n - 1]), Err(E::InvalidArgument));
        }
        // A name longer than 32 bytes, or one whose padding is not zero.
        assert_eq!(svc::Request::decode(svc::KILL, &[33, 0, 0, 0, 0, 0]), Err(E::InvalidArgument));
        assert_eq!(svc::Request::decode(svc::KILL, &[1, 0xff00]), Err(E::InvalidArgument));
        // A patch longer than POKE_MAX.
        assert_eq!(svc::Request::decode(svc::POKE, &[1, 0x41, 0, 0x1000, 33, 0, 0, 0, 0, 0]), Err(E::InvalidArgument));
        assert_eq!(svc::Request::decode(0x53ff, &[]), Err(E::BadOpcode));
        assert_eq!(svc::Error::from(E::BadOpcode), svc::Error::UnknownCall);
        assert_eq!(svc::Error::from(E::InvalidArgument), svc::Error::Malformed);
        assert_eq!(svc::Request::command(svc::STATUS, "x", 0), None);
        assert_eq!(svc::Request::command(svc::INJECT, "x", 3).map(|r| r.label()), Some(svc::INJECT));
    }

    #[test]
    fn status_replies_fit_and_round_trip() {
        use l4_sys::message::Bytes;
        let long = "x".repeat(svc::CAUSE_MAX + 10);
        let r = svc::StatusReply {
            state: 1,
            incarnation: 4,
            restarts: 3,
            failures_in_window: 1,
            name: svc::Name::truncated("a-very-long-driver-name-of-32-by"),
            cause: Bytes::truncated(&long),
        };
        let mut mr = [0u64; 64];
        let n = r.encode(&mut mr).unwrap();
        assert!(n <= 63, "the longest status fits a message: {n} words");
        assert_eq!(svc::StatusReply::decode(&mr[..n]), Ok(r));
        let p = svc::PokeReply { status: 0, old: Bytes::new(&[1, 2, 3]).unwrap() };
        let n = p.encode(&mut mr).unwrap();
        assert_eq!(svc::PokeReply::decode(&mr[..n]), Ok(p));
    }

    #[test]
    fn control_requests() {
        for r in [control::Request::Ping {}, control::Request::Inject { kind: control::INJECT_HANG_IRQ }] {
            let mut mr = [0u64; 4];
            let n = r.encode(&mut mr).unwrap();
            assert_eq!(control::Request::decode(r.label(), &mr[..n]), Ok(r));
        }
        assert_eq!(control::Request::decode(control::INJECT, &[]), Err(l4_sys::Error::InvalidArgument));
    }
}
