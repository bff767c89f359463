//! What a parent learns about a child: the cause of a fault, the state a task is in.
//!
//! When a task faults, exits or violates its grants, the kernel records an event in
//! the task and triggers the IRQ object its creator named at creation. The parent
//! then reads the record with [`crate::proto::task::INFO`].

/// Why a task stopped or was reported. Values below 32 are the x86 exception vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Cause {
    DivideError = 0,
    Debug = 1,
    Breakpoint = 3,
    Overflow = 4,
    BoundRange = 5,
    InvalidOpcode = 6,
    DeviceNotAvailable = 7,
    InvalidTss = 10,
    SegmentNotPresent = 11,
    StackFault = 12,
    GeneralProtection = 13,
    PageFault = 14,
    FloatingPoint = 16,
    AlignmentCheck = 17,
    SimdFloatingPoint = 19,
    /// A port access outside the task's I/O bitmap (a #GP on `in`/`out`); the
    /// address is the port.
    IoPort = 0x100,
    /// The task ended itself; the code is its exit status.
    Exit = 0x101,
    /// Killed by a holder of its task capability.
    Killed = 0x102,
    /// Not a stop: an attempt to invoke a slot it holds no capability in (the
    /// address is the slot). The task got [`crate::Error::NoCapability`].
    IpcDenied = 0x103,
    /// Not a stop: an attempt to map device memory outside its grant (the address
    /// is the physical address asked for). The task got [`crate::Error::Denied`].
    MmioDenied = 0x104,
    /// Not a stop: an attempt to use ports or IRQ lines outside its grant.
    ResourceDenied = 0x105,
    /// Not a stop: a thread ran `RUNAWAY_TICKS` above the default priority
    /// without waiting and runs at the default priority until it waits (see
    /// `proto::thread::RUNAWAY_TICKS`). The address is the thread's own
    /// priority, the code the milliseconds it ran.
    Runaway = 0x106,
}

impl Cause {
    pub const fn from_raw(raw: u64) -> Option<Cause> {
        Some(match raw {
            0 => Cause::DivideError,
            1 => Cause::Debug,
            3 => Cause::Breakpoint,
            4 => Cause::Overflow,
            5 => Cause::BoundRange,
            6 => Cause::InvalidOpcode,
            7 => Cause::DeviceNotAvailable,
            10 => Cause::InvalidTss,
            11 => Cause::SegmentNotPresent,
            12 => Cause::StackFault,
            13 => Cause::GeneralProtection,
            14 => Cause::PageFault,
            16 => Cause::FloatingPoint,
            17 => Cause::AlignmentCheck,
            19 => Cause::SimdFloatingPoint,
            0x100 => Cause::IoPort,
            0x101 => Cause::Exit,
            0x102 => Cause::Killed,
            0x103 => Cause::IpcDenied,
            0x104 => Cause::MmioDenied,
            0x105 => Cause::ResourceDenied,
            0x106 => Cause::Runaway,
            _ => return None,
        })
    }

    /// Whether the task was stopped by this event (violations are only reported).
    pub const fn stops_task(self) -> bool {
        !matches!(self, Cause::IpcDenied | Cause::MmioDenied | Cause::ResourceDenied | Cause::Runaway)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Cause::DivideError => "divide-error",
            Cause::Debug => "debug",
            Cause::Breakpoint => "breakpoint",
            Cause::Overflow => "overflow",
            Cause::BoundRange => "bound-range",
            Cause::InvalidOpcode => "invalid-opcode",
            Cause::DeviceNotAvailable => "device-not-available",
            Cause::InvalidTss => "invalid-tss",
            Cause::SegmentNotPresent => "segment-not-present",
            Cause::StackFault => "stack-fault",
            Cause::GeneralProtection => "general-protection",
            Cause::PageFault => "page-fault",
            Cause::FloatingPoint => "x87-fp",
            Cause::AlignmentCheck => "alignment-check",
            Cause::SimdFloatingPoint => "simd-fp",
            Cause::IoPort => "io-port",
            Cause::Exit => "exit",
            Cause::Killed => "killed",
            Cause::IpcDenied => "ipc-denied",
            Cause::MmioDenied => "mmio-denied",
            Cause::ResourceDenied => "resource-denied",
            Cause::Runaway => "runaway",
        }
    }
}

/// A task's life cycle as its parent sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum TaskState {
    /// Created, threads may run.
    Running = 0,
    /// Stopped by a fault, an exit or a kill; its memory stays until destroyed.
    Stopped = 1,
}

/// One event record, as [`crate::proto::task::INFO`] returns it in the message
/// registers `mr[0..EVENT_WORDS]`, followed by up to [`REASON_BYTES`] of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub cause: Cause,
    /// Instruction pointer at the event.
    pub ip: u64,
    /// Faulting address (page faults: CR2; ports: the port; violations: the slot
    /// or physical address).
    pub addr: u64,
    /// The exception's error code, or the exit status.
    pub code: u64,
    /// Index of the thread within its task.
    pub thread: u64,
}

pub const EVENT_WORDS: usize = 5;
/// Events the kernel keeps per task until its parent takes them; older ones are
/// dropped (and still counted in `events_total`).
pub const QUEUE_LEN: usize = 16;
/// Longest exit reason kept with a task.
pub const REASON_BYTES: usize = 120;

impl Event {
    pub fn to_words(&self) -> [u64; EVENT_WORDS] {
        [self.cause as u64, self.ip, self.addr, self.code, self.thread]
    }

    pub fn from_words(w: &[u64]) -> Option<Event> {
        Some(Event {
            cause: Cause::from_raw(*w.first()?)?,
            ip: *w.get(1)?,
            addr: *w.get(2)?,
            code: *w.get(3)?,
            thread: *w.get(4)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let e = Event { cause: Cause::PageFault, ip: 0x401000, addr: 0xdead_b000, code: 6, thread: 1 };
        assert_eq!(Event::from_words(&e.to_words()), Some(e));
        assert!(Event::from_words(&[999, 0, 0, 0, 0]).is_none());
        assert!(!Cause::IpcDenied.stops_task());
        assert!(!Cause::Runaway.stops_task());
        assert_eq!(Cause::from_raw(Cause::Runaway as u64), Some(Cause::Runaway));
        assert!(Cause::InvalidOpcode.stops_task());
    }
}
