//! The L4Re environment of a task that ned (through `l4re_itas`) starts: a
//! `l4re_env_t` whose address comes in the aux vector under [`AT_L4_ENV`],
//! with the task's initial capabilities and its named ones
//! (`l4re/include/env.h`, `l4util/include/elf.h`).

/// Aux vector key of the `l4re_env_t` pointer.
pub const AT_L4_ENV: u64 = 0xf1;
/// Aux vector key of the kernel information page.
pub const AT_L4_KIP: u64 = 0xf2;
/// The end of the aux vector.
pub const AT_NULL: u64 = 0;

/// `l4re_env_cap_entry_t`: one named capability.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CapEntry {
    pub cap: u64,
    /// `!0` marks the end of the list.
    pub flags: u64,
    pub name: [u8; 16],
}

impl CapEntry {
    pub fn name(&self) -> &[u8] {
        let n = self.name.iter().position(|&b| b == 0).unwrap_or(self.name.len());
        &self.name[..n]
    }

    pub const fn is_end(&self) -> bool {
        self.flags == !0
    }
}

/// `l4re_env_t`. Capabilities are selectors except `first_free_cap`, an index.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Env {
    pub parent: u64,
    pub rm: u64,
    pub mem_alloc: u64,
    pub log: u64,
    pub main_thread: u64,
    pub factory: u64,
    pub scheduler: u64,
    pub itas: u64,
    pub dbg_events: u64,
    pub first_free_cap: u64,
    pub first_free_reply_cap: u64,
    /// Flexpage of the task's UTCB area.
    pub utcb_area: u64,
    pub first_free_utcb: u64,
    pub caps: *const CapEntry,
}

/// What the entry stack says: the number of arguments (`argv` follows `argc`
/// on the stack), the environment and the KIP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Start {
    pub argc: u64,
    pub env: u64,
    pub kip: u64,
}

/// Reads the entry stack `[argc, argv..., 0, envp..., 0, auxv pairs..., 0]`
/// word by word through `word` (index from the stack pointer), reading no
/// further than the aux vector's end. `None` when `word` runs out first.
pub fn parse_stack_with(word: impl Fn(usize) -> Option<u64>) -> Option<Start> {
    let argc = word(0)?;
    let mut i = 1usize.checked_add(usize::try_from(argc).ok()?)?;
    if word(i)? != 0 {
        return None;
    }
    i += 1;
    while word(i)? != 0 {
        i = i.checked_add(1)?;
    }
    i += 1;
    let mut start = Start { argc, env: 0, kip: 0 };
    loop {
        let key = word(i)?;
        if key == AT_NULL {
            return Some(start);
        }
        let value = word(i.checked_add(1)?)?;
        match key {
            AT_L4_ENV => start.env = value,
            AT_L4_KIP => start.kip = value,
            _ => {}
        }
        i = i.checked_add(2)?;
    }
}

/// [`parse_stack_with`] over a copy of the stack.
pub fn parse_stack(stack: &[u64]) -> Option<Start> {
    parse_stack_with(|i| stack.get(i).copied())
}

/// Prefix of the names under which a server gets the gates it serves, unbound
/// (`gate.LABEL`, the label in hex): its runtime binds each to its first
/// thread with that label before the task's code runs, as Resurgo's init binds
/// them before the task starts.
pub const SERVED_GATE_PREFIX: &str = "gate.";

/// The label of a served gate's name, if it is one.
pub fn served_gate_label(name: &[u8]) -> Option<u64> {
    let hex = core::str::from_utf8(name.strip_prefix(SERVED_GATE_PREFIX.as_bytes())?).ok()?;
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Looks `name` up in a named-capability list.
pub fn find<'a>(entries: impl IntoIterator<Item = &'a CapEntry>, name: &str) -> Option<u64> {
    entries.into_iter().take_while(|e| !e.is_end()).find(|e| e.name() == name.as_bytes()).map(|e| e.cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_stack() {
        let stack = [2, 0x100, 0x200, 0, 0x300, 0, 6, 4096, AT_L4_KIP, 0x6fff_f000, AT_L4_ENV, 0x801f_ff90, 0, 0];
        let s = parse_stack(&stack).unwrap();
        assert_eq!(s, Start { argc: 2, env: 0x801f_ff90, kip: 0x6fff_f000 });
        // Truncated or lying stacks are refused, not read past.
        assert_eq!(parse_stack(&stack[..9]), None);
        assert_eq!(parse_stack(&[u64::MAX, 0]), None);
        assert_eq!(parse_stack(&[]), None);
    }

    #[test]
    fn named_caps() {
        let mut a = CapEntry { cap: 0x5000, flags: 0, name: [0; 16] };
        a.name[..4].copy_from_slice(b"vbus");
        let mut b = CapEntry { cap: 0x6000, flags: 0, name: [b'x'; 16] };
        b.name[15] = b'y';
        let end = CapEntry { cap: !0 << 11, flags: !0, name: [0; 16] };
        let list = [a, b, end, a];
        assert_eq!(find(&list, "vbus"), Some(0x5000));
        assert_eq!(find(&list, "xxxxxxxxxxxxxxxy"), Some(0x6000));
        assert_eq!(find(&list, "nope"), None);
        assert_eq!(find(&list[2..], "vbus"), None);
    }

    #[test]
    fn served_gates() {
        assert_eq!(served_gate_label(b"gate.101"), Some(0x101));
        assert_eq!(served_gate_label(b"gate."), None);
        assert_eq!(served_gate_label(b"gate.xyz"), None);
        assert_eq!(served_gate_label(b"vbus"), None);
        assert_eq!(served_gate_label(b"gate.1234567890abcdef"), None);
    }
}
