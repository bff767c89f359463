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
    /// The IOMMU blocked and recorded a DMA request of the task's device:
    /// `addr` is the I/O virtual address (page-aligned), `code` the
    /// [`DmaFault`] packing of device, access and reason.
    DmaFault = 0x107,
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
            0x107 => Cause::DmaFault,
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
            Cause::DmaFault => "dma-fault",
        }
    }
}

/// A task's life cycle as its parent sees it.
/// What a [`Cause::DmaFault`] event's `code` says: `source | write << 16 |
/// reason << 24`, the source id being the PCI `bus << 8 | device << 3 |
/// function`, `write` 1 for a write request (0 a read) and `reason` the
/// VT-d fault reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaFault {
    pub source: u16,
    pub write: bool,
    pub reason: u8,
}

impl DmaFault {
    pub const fn code(self) -> u64 {
        self.source as u64 | (self.write as u64) << 16 | (self.reason as u64) << 24
    }

    pub const fn from_code(code: u64) -> DmaFault {
        DmaFault { source: code as u16, write: (code >> 16) & 1 != 0, reason: (code >> 24) as u8 }
    }

    /// The access as a word: `write` or `read`.
    pub const fn access(self) -> &'static str {
        if self.write { "write" } else { "read" }
    }
}

impl core::fmt::Display for DmaFault {
    /// `00:02.0`: the device, as PCI writes it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.source >> 8, (self.source >> 3) & 0x1f, self.source & 7)
    }
}

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

    #[test]
    fn dma_faults_pack_device_access_and_reason() {
        assert_eq!(Cause::from_raw(0x107), Some(Cause::DmaFault));
        assert!(Cause::DmaFault.stops_task());
        let f = DmaFault { source: 0x0010, write: true, reason: 5 };
        assert_eq!(f.code(), 0x10 | 1 << 16 | 5 << 24);
        assert_eq!(DmaFault::from_code(f.code()), f);
        assert_eq!(f.to_string(), "00:02.0");
        assert_eq!(f.access(), "write");
        assert_eq!(DmaFault { source: 0x1ff, write: false, reason: 6 }.to_string(), "01:1f.7");
    }
}
