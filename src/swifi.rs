//! Software-implemented fault injection (SWIFI): the faults `resurgo bench
//! swifi` patches into a running driver's text.
//!
//! [`Text`] is a driver image's executable code split by origin: the Linux
//! driver's own functions (those its compiled objects define), the shim's (the
//! `dde_linux_shim` crate and the shim's C), and DDEKit's (`ddekit`,
//! `ddekit_core`). The rest of the image (Resurgo's task runtime, `core`,
//! `alloc`, compiler built-ins) is not a target. A fault's place is a random
//! byte of the targets' code, so each part gets faults in proportion to its
//! size.
//!
//! The fault types are those of the SWIFI literature (Rio's file cache, Nooks,
//! MINIX 3's driver isolation): the instruction at that place (or the next one
//! the type applies to) is decoded and, for the types that change an operand,
//! re-encoded changed with iced-x86, at the same address and length (shorter
//! results are padded with NOPs; longer ones are not used).

use crate::frames::Rng;
use anyhow::{Context, Result, bail};
use iced_x86::{Decoder, DecoderOptions, Encoder, Formatter, GasFormatter, Instruction, Mnemonic, OpKind, Register};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::collections::HashSet;

/// Where a function comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    /// The unmodified Linux driver.
    Linux,
    /// The Linux kernel API emulation (`dde-linux-shim`, Rust and C).
    Shim,
    /// DDEKit, the driver environment kit under the shim.
    Ddekit,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Linux, Region::Shim, Region::Ddekit];

    pub fn name(self) -> &'static str {
        match self {
            Region::Linux => "linux",
            Region::Shim => "shim",
            Region::Ddekit => "ddekit",
        }
    }
}

/// A function of the image that faults may hit.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub start: u64,
    pub size: u64,
    pub region: Region,
}

/// A driver image's executable code and its target functions.
pub struct Text {
    /// The executable section's address and bytes.
    pub base: u64,
    pub bytes: Vec<u8>,
    /// Target functions, sorted by address, not overlapping.
    pub functions: Vec<Function>,
    /// Bytes of code in no target region (runtime, `core`, built-ins).
    pub other_bytes: u64,
}

/// The crate a Rust symbol (legacy mangling, `_ZN<len><crate>...`) belongs to.
fn rust_crate(symbol: &str) -> Option<&str> {
    let rest = symbol.strip_prefix("_ZN")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let len: usize = rest[..digits].parse().ok()?;
    rest.get(digits..digits + len)
}

/// The region of symbol `name`: Rust symbols by crate, C ones by whether the
/// Linux driver's objects or the shim's C define them. `None`: not a target.
pub fn classify(name: &str, linux: &HashSet<String>, shim_c: &HashSet<String>) -> Option<Region> {
    if let Some(krate) = rust_crate(name) {
        return match krate {
            "ddekit" | "ddekit_core" => Some(Region::Ddekit),
            "dde_linux_shim" => Some(Region::Shim),
            _ => None,
        };
    }
    // `cp_interrupt.cold`, `foo.constprop.0`: parts of `cp_interrupt`, `foo`.
    let base = name.split('.').next().unwrap_or(name);
    if linux.contains(name) || linux.contains(base) {
        Some(Region::Linux)
    } else if shim_c.contains(name) || shim_c.contains(base) {
        Some(Region::Shim)
    } else {
        None
    }
}

/// The names of the functions an object file defines.
pub fn defined_functions(data: &[u8]) -> Result<Vec<String>> {
    let file = object::File::parse(data).context("not an object file")?;
    Ok(file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect())
}

impl Text {
    /// Reads the `.text` section and the function symbols of an ELF image.
    pub fn load(image: &[u8], linux: &HashSet<String>, shim_c: &HashSet<String>) -> Result<Text> {
        let file = object::File::parse(image).context("the driver image is not an ELF file")?;
        let text = file.section_by_name(".text").context("the driver image has no .text section")?;
        let base = text.address();
        let bytes = text.data().context("cannot read .text")?.to_vec();
        let end = base + bytes.len() as u64;
        let mut all: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0 && s.address() >= base && s.address() < end)
            .filter_map(|s| Some((s.address(), s.size().min(end - s.address()), s.name().ok()?.to_string())))
            .collect();
        all.sort();
        all.dedup_by_key(|f| f.0);
        let mut functions: Vec<Function> = Vec::new();
        let mut other_bytes = 0;
        for (start, size, name) in all {
            // Aliases and overlaps: keep the first of a range.
            if functions.last().is_some_and(|f| f.start + f.size > start) {
                continue;
            }
            match classify(&name, linux, shim_c) {
                Some(region) => functions.push(Function { name, start, size, region }),
                None => other_bytes += size,
            }
        }
        if functions.is_empty() {
            bail!("no function of the image belongs to the driver, the shim or DDEKit");
        }
        Ok(Text { base, bytes, functions, other_bytes })
    }

    /// Bytes of code a region has.
    pub fn region_bytes(&self, region: Region) -> u64 {
        self.functions.iter().filter(|f| f.region == region).map(|f| f.size).sum()
    }

    pub fn target_bytes(&self) -> u64 {
        self.functions.iter().map(|f| f.size).sum()
    }

    fn code(&self, f: &Function) -> &[u8] {
        let at = (f.start - self.base) as usize;
        &self.bytes[at..at + f.size as usize]
    }

    /// The function a random byte of the targets falls in, and the byte.
    fn random_place(&self, rng: &mut Rng) -> (usize, u64) {
        let mut k = rng.below(self.target_bytes());
        for (i, f) in self.functions.iter().enumerate() {
            if k < f.size {
                return (i, f.start + k);
            }
            k -= f.size;
        }
        (0, self.functions[0].start)
    }
}

/// The kinds of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultType {
    /// One random bit of an instruction flipped.
    BitFlip,
    /// A source register operand replaced by another register.
    SourceRegister,
    /// The destination register replaced by another register.
    DestinationRegister,
    /// A memory operand's base register or displacement corrupted.
    Pointer,
    /// A conditional branch's condition inverted.
    BranchInvert,
    /// A branch (conditional or not) removed.
    BranchDelete,
    /// An instruction replaced by NOPs.
    Nop,
    /// A compare against a constant (a loop or bounds check) off by one.
    LoopBound,
}

impl FaultType {
    pub const ALL: [FaultType; 8] = [
        FaultType::BitFlip,
        FaultType::SourceRegister,
        FaultType::DestinationRegister,
        FaultType::Pointer,
        FaultType::BranchInvert,
        FaultType::BranchDelete,
        FaultType::Nop,
        FaultType::LoopBound,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultType::BitFlip => "bit-flip",
            FaultType::SourceRegister => "source-register",
            FaultType::DestinationRegister => "destination-register",
            FaultType::Pointer => "pointer",
            FaultType::BranchInvert => "branch-invert",
            FaultType::BranchDelete => "branch-delete",
            FaultType::Nop => "nop",
            FaultType::LoopBound => "loop-bound",
        }
    }
}

/// One patch: where, the bytes there and what replaces them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultType,
    pub region: Region,
    pub function: String,
    pub addr: u64,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    /// The instruction before and after, in AT&T syntax.
    pub before: String,
    pub after: String,
}

impl Fault {
    /// `ADDR:HEX`, as the console's `svc poke` takes it.
    pub fn patch_word(&self) -> String {
        let hex: String = self.new.iter().map(|b| format!("{b:02x}")).collect();
        format!("{:x}:{hex}", self.addr)
    }

    pub fn end(&self) -> u64 {
        self.addr + self.old.len() as u64
    }
}

fn decode_all(code: &[u8], ip: u64) -> Vec<Instruction> {
    let mut d = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let mut out = Vec::new();
    while d.can_decode() {
        let i = d.decode();
        if i.is_invalid() {
            break;
        }
        out.push(i);
    }
    out
}

fn show(i: &Instruction) -> String {
    let mut s = String::new();
    GasFormatter::new().format(i, &mut s);
    s
}

/// Encodes `i` at its address into exactly `len` bytes (NOP-padded), if it fits.
fn encode_to(i: &Instruction, len: usize) -> Option<Vec<u8>> {
    let mut e = Encoder::new(64);
    let n = e.encode(i, i.ip()).ok()?;
    if n > len {
        return None;
    }
    let mut b = e.take_buffer();
    b.resize(len, 0x90);
    Some(b)
}

/// Another general register of the same size as `r`.
fn other_register(r: Register, rng: &mut Rng) -> Option<Register> {
    if !r.is_gpr() {
        return None;
    }
    let same: Vec<Register> = Register::values()
        .filter(|x| x.is_gpr() && x.size() == r.size() && *x != r)
        // The legacy high-byte registers cannot be encoded with REX prefixes.
        .filter(|x| !matches!(x, Register::AH | Register::BH | Register::CH | Register::DH))
        .collect();
    same.get(rng.below(same.len() as u64) as usize).copied()
}

/// Whether the first operand is only read (so it is a source, not a destination).
fn first_operand_read_only(i: &Instruction) -> bool {
    matches!(i.mnemonic(), Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Push | Mnemonic::Bt)
}

/// The changed bytes for fault `kind` at instruction `i` (`next`: the one after
/// it), if the kind applies there.
fn mutate(kind: FaultType, i: &Instruction, next: Option<&Instruction>, old: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let len = old.len();
    let mut m = *i;
    let changed = match kind {
        FaultType::BitFlip => {
            let mut b = old.to_vec();
            let bit = rng.below(len as u64 * 8);
            b[(bit / 8) as usize] ^= 1 << (bit % 8);
            return Some(b);
        }
        FaultType::Nop => return Some(vec![0x90; len]),
        FaultType::BranchDelete => {
            return (i.is_jcc_short_or_near() || i.is_jmp_short_or_near()).then(|| vec![0x90; len]);
        }
        FaultType::BranchInvert => {
            if !i.is_jcc_short_or_near() {
                return None;
            }
            m.negate_condition_code();
            m
        }
        FaultType::SourceRegister => {
            let op = if i.op_count() >= 2 && i.op_kind(1) == OpKind::Register {
                1
            } else if i.op_count() >= 1 && i.op_kind(0) == OpKind::Register && first_operand_read_only(i) {
                0
            } else {
                return None;
            };
            m.set_op_register(op, other_register(i.op_register(op), rng)?);
            m
        }
        FaultType::DestinationRegister => {
            if i.op_count() == 0 || i.op_kind(0) != OpKind::Register || first_operand_read_only(i) {
                return None;
            }
            m.set_op_register(0, other_register(i.op_register(0), rng)?);
            m
        }
        FaultType::Pointer => {
            if !(0..i.op_count()).any(|k| i.op_kind(k) == OpKind::Memory) {
                return None;
            }
            let base = i.memory_base();
            if i.memory_displ_size() > 0 && (rng.chance(2) || !base.is_gpr64()) {
                let bits = 8 * i.memory_displ_size().min(4) as u64;
                m.set_memory_displacement64(i.memory_displacement64() ^ (1 << rng.below(bits)));
            } else if base.is_gpr64() {
                m.set_memory_base(other_register(base, rng)?);
            } else {
                return None;
            }
            m
        }
        FaultType::LoopBound => {
            let compares_constant = i.mnemonic() == Mnemonic::Cmp
                && i.op_count() == 2
                && matches!(
                    i.op_kind(1),
                    OpKind::Immediate8
                        | OpKind::Immediate8to32
                        | OpKind::Immediate8to64
                        | OpKind::Immediate32
                        | OpKind::Immediate32to64
                );
            if !compares_constant || !next.is_some_and(|n| n.is_jcc_short_or_near()) {
                return None;
            }
            let v = i.immediate(1) as i64;
            let off = if rng.chance(2) { 1 } else { -1 };
            m.try_set_immediate_i32(1, v.checked_add(off)?.try_into().ok()?).ok()?;
            m
        }
    };
    let new = encode_to(&changed, len)?;
    (new != old).then_some(new)
}

/// How many instructions past a random place a fault type may look for one it
/// applies to (a branch, a compare against a constant) before trying elsewhere.
const SEARCH: usize = 64;

/// Makes one fault of `kind` at a random place of `text`, none of whose bytes
/// lie in `taken`. `None` if a few tries found no instruction it applies to.
pub fn make_fault(text: &Text, kind: FaultType, taken: &[(u64, u64)], rng: &mut Rng) -> Option<Fault> {
    for _ in 0..32 {
        let (fi, place) = text.random_place(rng);
        let f = &text.functions[fi];
        let code = text.code(f);
        let insns = decode_all(code, f.start);
        let Some(first) = insns.iter().position(|i| i.ip() + i.len() as u64 > place) else { continue };
        for k in first..(first + SEARCH).min(insns.len()) {
            let i = &insns[k];
            let at = (i.ip() - f.start) as usize;
            let old = &code[at..at + i.len()];
            let end = i.ip() + i.len() as u64;
            if taken.iter().any(|&(a, b)| i.ip() < b && a < end) {
                continue;
            }
            let Some(new) = mutate(kind, i, insns.get(k + 1), old, rng) else { continue };
            let mut d = Decoder::with_ip(64, &new, i.ip(), DecoderOptions::NONE);
            let after = d.decode();
            let after = if after.is_invalid() { "(invalid)".to_string() } else { show(&after) };
            return Some(Fault {
                kind,
                region: f.region,
                function: f.name.clone(),
                addr: i.ip(),
                old: old.to_vec(),
                new,
                before: show(i),
                after,
            });
        }
    }
    None
}

/// A burst of `n` faults at distinct places, of types drawn from `kinds`.
pub fn burst(text: &Text, n: usize, kinds: &[FaultType], rng: &mut Rng) -> Vec<Fault> {
    let mut out: Vec<Fault> = Vec::with_capacity(n);
    let mut taken: Vec<(u64, u64)> = Vec::with_capacity(n);
    let mut misses = 0;
    while out.len() < n && misses < 16 * n.max(1) && !kinds.is_empty() {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        match make_fault(text, kind, &taken, rng) {
            Some(f) => {
                taken.push((f.addr, f.end()));
                out.push(f);
            }
            None => misses += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn symbols_are_classified_by_crate_and_object() {
        let linux = set(&["cp_interrupt", "cp_rx_poll"]);
        let shim_c = set(&["netif_rx"]);
        assert_eq!(classify("cp_interrupt", &linux, &shim_c), Some(Region::Linux));
        assert_eq!(classify("cp_rx_poll.cold", &linux, &shim_c), Some(Region::Linux));
        assert_eq!(classify("netif_rx", &linux, &shim_c), Some(Region::Shim));
        assert_eq!(classify("_ZN14dde_linux_shim4task4main17ha38ac3df61e13d37E", &linux, &shim_c), Some(Region::Shim));
        assert_eq!(classify("_ZN6ddekit3pci6device17he58f4af4843517f8E", &linux, &shim_c), Some(Region::Ddekit));
        assert_eq!(classify("_ZN11ddekit_core3foo17h0E", &linux, &shim_c), Some(Region::Ddekit));
        assert_eq!(classify("_ZN2rt3ipc4call17h0E", &linux, &shim_c), None);
        assert_eq!(classify("_ZN4core3fmt5write17h0E", &linux, &shim_c), None);
        assert_eq!(classify("memcpy", &linux, &shim_c), None);
        assert_eq!(classify("_ZN99x", &linux, &shim_c), None, "a length past the end");
    }

    /// A made-up function: `cmp $5,%eax; jne +2; mov %rbx,%rcx; mov 8(%rdi),%rax; jmp -x; ret`.
    fn sample() -> Text {
        let code = vec![
            0x83, 0xf8, 0x05, // cmp $5,%eax
            0x75, 0x03, // jne +3
            0x48, 0x89, 0xd9, // mov %rbx,%rcx
            0x48, 0x8b, 0x47, 0x08, // mov 8(%rdi),%rax
            0xeb, 0xf2, // jmp back to the start
            0xc3, // ret
        ];
        let size = code.len() as u64;
        Text {
            base: 0x40_0000,
            bytes: code,
            functions: vec![Function { name: "f".into(), start: 0x40_0000, size, region: Region::Linux }],
            other_bytes: 0,
        }
    }

    #[test]
    fn every_fault_type_changes_a_real_instruction_in_place() {
        let text = sample();
        let mut rng = Rng::new(7);
        for kind in FaultType::ALL {
            for _ in 0..20 {
                let f = make_fault(&text, kind, &[], &mut rng).unwrap_or_else(|| panic!("{kind:?} found no place"));
                assert_ne!(f.old, f.new, "{kind:?}");
                assert_eq!(f.old.len(), f.new.len(), "{kind:?}: same length");
                let at = (f.addr - text.base) as usize;
                assert_eq!(&text.bytes[at..at + f.old.len()], &f.old[..], "{kind:?}: the old bytes are the image's");
                match kind {
                    FaultType::BranchInvert => {
                        assert!(f.before.starts_with("jne") && f.after.starts_with("je"), "{f:?}")
                    }
                    FaultType::BranchDelete => assert!(f.new.iter().all(|&b| b == 0x90) && f.before.starts_with('j')),
                    FaultType::Nop => assert!(f.new.iter().all(|&b| b == 0x90)),
                    FaultType::LoopBound => {
                        assert!(f.after == "cmp $6,%eax" || f.after == "cmp $4,%eax", "{f:?}")
                    }
                    FaultType::DestinationRegister => assert!(f.before.starts_with("mov"), "{f:?}"),
                    FaultType::Pointer => assert!(f.before.contains("(%rdi)"), "{f:?}"),
                    FaultType::SourceRegister | FaultType::BitFlip => {}
                }
            }
        }
    }

    #[test]
    fn bursts_do_not_overlap_and_are_reproducible() {
        let text = sample();
        let a = burst(&text, 4, &FaultType::ALL, &mut Rng::new(1));
        let b = burst(&text, 4, &FaultType::ALL, &mut Rng::new(1));
        assert_eq!(a, b);
        for (i, x) in a.iter().enumerate() {
            for y in &a[i + 1..] {
                assert!(x.end() <= y.addr || y.end() <= x.addr, "{x:?} overlaps {y:?}");
            }
        }
        assert!(a[0].patch_word().starts_with("400"), "{}", a[0].patch_word());
        assert!(burst(&text, 3, &[], &mut Rng::new(1)).is_empty());
    }
}
