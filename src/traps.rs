//! Unresolved symbols of a legacy driver, and the traps generated for them.
//!
//! Before a driver is linked, the symbols its objects reference are compared
//! with what the objects themselves, the shim library (which carries DDEKit
//! and the runtime) and the linker script define. Each symbol left over gets a
//! generated trap: a function of that name that calls the shim's
//! `resurgo_unimplemented(name, caller)`, which ends the task with the reason
//! "called unimplemented `NAME`" (the reincarnation server, `svc list` and
//! the status page show it). The traps are assembly, written into the build
//! folder and assembled there; nothing generated is committed.
//!
//! Pure: ELF bytes in, symbol sets and assembly text out.

use anyhow::{Context, Result, anyhow};
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SymbolKind, SymbolSection};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The function in the shim every trap calls (`dde-linux-shim/src/traps.rs`).
pub const TRAP_HANDLER: &str = "resurgo_unimplemented";

/// One place in a driver object that references a symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// The object file's label (its source's path in the Linux tree).
    pub object: String,
    /// The function (or data object, for an address in an ops table) the
    /// reference is in, when the object's symbols say.
    pub function: Option<String>,
    /// A call or tail call (`R_X86_64_PLT32`); otherwise the address is taken
    /// (a function pointer in an ops table) or the symbol is data.
    pub call: bool,
}

/// What one object defines and references.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ObjectSymbols {
    /// Global and weak symbols the object defines.
    pub defined: BTreeSet<String>,
    /// Undefined symbols, with every place that references them.
    pub undefined: BTreeMap<String, Vec<Reference>>,
}

/// `R_X86_64_PLT32`: what gcc emits for `call foo` and `jmp foo`.
const R_X86_64_PLT32: u32 = 4;

/// Reads a relocatable ELF object: its definitions and its undefined
/// references, each with the function it is in.
pub fn object_symbols(label: &str, data: &[u8]) -> Result<ObjectSymbols> {
    let file = object::File::parse(data).map_err(|e| anyhow!("{label}: not an ELF object: {e}"))?;
    let mut out = ObjectSymbols::default();
    // Defined symbols of each section by address, to name the container of a relocation.
    let mut by_section: BTreeMap<usize, Vec<(u64, u64, String, bool)>> = BTreeMap::new();
    for sym in file.symbols() {
        let Ok(name) = sym.name() else { continue };
        if name.is_empty() {
            continue;
        }
        match sym.section() {
            SymbolSection::Undefined if sym.is_global() || sym.is_weak() => {
                out.undefined.entry(name.to_string()).or_default();
            }
            SymbolSection::Section(idx) => {
                if sym.is_global() || sym.is_weak() {
                    out.defined.insert(name.to_string());
                }
                if matches!(sym.kind(), SymbolKind::Text | SymbolKind::Data) && sym.size() > 0 {
                    by_section.entry(idx.0).or_default().push((
                        sym.address(),
                        sym.size(),
                        name.to_string(),
                        sym.kind() == SymbolKind::Text,
                    ));
                }
            }
            SymbolSection::Common => {
                out.defined.insert(name.to_string());
            }
            _ => {}
        }
    }
    for section in file.sections() {
        let containers = by_section.get(&section.index().0);
        for (offset, reloc) in section.relocations() {
            let RelocationTarget::Symbol(idx) = reloc.target() else { continue };
            let Ok(sym) = file.symbol_by_index(idx) else { continue };
            if !sym.is_undefined() {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            let Some(uses) = out.undefined.get_mut(name) else { continue };
            let function = containers.and_then(|list| {
                list.iter()
                    .filter(|(addr, size, _, _)| *addr <= offset && offset < addr + size)
                    .max_by_key(|(_, _, _, text)| *text)
                    .map(|(_, _, n, _)| n.clone())
            });
            let call = matches!(reloc.flags(), RelocationFlags::Elf { r_type } if r_type == R_X86_64_PLT32);
            let r = Reference { object: label.to_string(), function, call };
            if !uses.contains(&r) {
                uses.push(r);
            }
        }
    }
    Ok(out)
}

/// The global symbols an archive (the shim library) defines, from its symbol index.
pub fn archive_symbols(data: &[u8]) -> Result<BTreeSet<String>> {
    let archive = object::read::archive::ArchiveFile::parse(data).context("not an ar archive")?;
    let mut out = BTreeSet::new();
    if let Some(symbols) = archive.symbols().context("the archive's symbol index")? {
        for sym in symbols {
            let sym = sym.context("the archive's symbol index")?;
            out.insert(String::from_utf8_lossy(sym.name()).into_owned());
        }
    } else {
        // No index: every member's definitions.
        for member in archive.members() {
            let member = member.context("an archive member")?;
            let Ok(bytes) = member.data(data) else { continue };
            if let Ok(obj) = object_symbols("member", bytes) {
                out.extend(obj.defined);
            }
        }
    }
    Ok(out)
}

/// The symbols an archive's members reference that no member defines: what
/// linking all of it would need from elsewhere.
pub fn archive_needs(data: &[u8]) -> Result<BTreeSet<String>> {
    let archive = object::read::archive::ArchiveFile::parse(data).context("not an ar archive")?;
    let (mut defined, mut undefined) = (BTreeSet::new(), BTreeSet::new());
    for member in archive.members() {
        let member = member.context("an archive member")?;
        let Ok(bytes) = member.data(data) else { continue };
        if let Ok(obj) = object_symbols("member", bytes) {
            defined.extend(obj.defined);
            undefined.extend(obj.undefined.into_keys());
        }
    }
    Ok(undefined.into_iter().filter(|n| !defined.contains(n)).collect())
}

/// Which of the `optional` objects a link of `always` takes when they come
/// as an archive does (Linux links its own `lib.a` so): those that define a
/// symbol `always`, `roots` or an object already taken references and that
/// nothing taken defines, until nothing more is wanted. Indices into
/// `optional`, ascending.
pub fn needed(always: &[ObjectSymbols], optional: &[ObjectSymbols], roots: &BTreeSet<String>) -> Vec<usize> {
    let mut defined: BTreeSet<&str> = always.iter().flat_map(|o| o.defined.iter().map(String::as_str)).collect();
    let mut wanted: Vec<&str> = roots
        .iter()
        .map(String::as_str)
        .chain(always.iter().flat_map(|o| o.undefined.keys().map(String::as_str)))
        .collect();
    let mut taken = vec![false; optional.len()];
    while let Some(name) = wanted.pop() {
        if defined.contains(name) {
            continue;
        }
        if let Some(i) = (0..optional.len()).find(|&i| !taken[i] && optional[i].defined.contains(name)) {
            taken[i] = true;
            defined.extend(optional[i].defined.iter().map(String::as_str));
            wanted.extend(optional[i].undefined.keys().map(String::as_str));
        }
    }
    (0..optional.len()).filter(|&i| taken[i]).collect()
}

/// Whether the linker defines the symbol itself: the bounds of the initcall
/// section and of the read-only data (`__start_rodata`, `__end_rodata`) in
/// `user.ld`, and `__start_`/`__stop_` of any section named like a C
/// identifier.
pub fn linker_defined(name: &str) -> bool {
    name.starts_with("__start_") || name.starts_with("__stop_") || name == "__end_rodata"
}

/// A symbol an assembler line can name without quoting.
pub fn plain_symbol(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$')
}

/// The symbols the driver's objects reference that nothing defines, with
/// every place that uses them. `provided` is what the shim library defines.
pub fn unresolved(objects: &[ObjectSymbols], provided: &BTreeSet<String>) -> BTreeMap<String, Vec<Reference>> {
    let defined: BTreeSet<&String> = objects.iter().flat_map(|o| &o.defined).collect();
    let mut out: BTreeMap<String, Vec<Reference>> = BTreeMap::new();
    for o in objects {
        for (name, uses) in &o.undefined {
            if defined.contains(name) || provided.contains(name) || linker_defined(name) {
                continue;
            }
            let entry = out.entry(name.clone()).or_default();
            for u in uses {
                if !entry.contains(u) {
                    entry.push(u.clone());
                }
            }
        }
    }
    out
}

/// The assembly of one trap per symbol: `NAME` loads its own name and its
/// caller's return address and jumps to [`TRAP_HANDLER`], which does not
/// return. Symbols an assembler cannot name plainly are left out (the link
/// then reports them as undefined, as without traps). Each of `boots` (a
/// linked library file's boot function, `void NAME(void)`) becomes an early
/// initcall: a stub that calls it and returns 0, and an entry of
/// `.initcallearly.init`, a 32-bit offset to the stub as Linux's
/// `early_initcall()` makes one, which the shim runs before the driver's.
pub fn trap_assembly(driver: &str, symbols: &[&str], boots: &[&str]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "/* Generated by `resurgo` for the legacy driver {driver}: one trap per");
    let _ = writeln!(s, "   function its objects use that neither the shim, DDEKit nor the runtime");
    let _ = writeln!(s, "   define. Each ends the task with \"called unimplemented `NAME`\". */");
    for (i, name) in symbols.iter().filter(|n| plain_symbol(n)).enumerate() {
        let _ = writeln!(s, "\t.section .text.resurgo_trap,\"ax\",@progbits");
        let _ = writeln!(s, "\t.globl {name}");
        let _ = writeln!(s, "\t.type {name}, @function");
        let _ = writeln!(s, "{name}:");
        let _ = writeln!(s, "\tleaq .Lresurgo_trap_name{i}(%rip), %rdi");
        let _ = writeln!(s, "\tmovq (%rsp), %rsi");
        let _ = writeln!(s, "\tjmp {TRAP_HANDLER}");
        let _ = writeln!(s, "\t.size {name}, .-{name}");
        let _ = writeln!(s, "\t.section .rodata.resurgo_trap,\"aMS\",@progbits,1");
        let _ = writeln!(s, ".Lresurgo_trap_name{i}:");
        let _ = writeln!(s, "\t.asciz \"{name}\"");
    }
    for (i, name) in boots.iter().filter(|n| plain_symbol(n)).enumerate() {
        // `void NAME(void)` behind an initcall's `int (*)(void)`: it returns 0.
        let _ = writeln!(s, "\t.section .text.resurgo_boot,\"ax\",@progbits");
        let _ = writeln!(s, ".Lresurgo_boot{i}:");
        let _ = writeln!(s, "\tsubq $8, %rsp");
        let _ = writeln!(s, "\tcall {name}");
        let _ = writeln!(s, "\taddq $8, %rsp");
        let _ = writeln!(s, "\txorl %eax, %eax");
        let _ = writeln!(s, "\tret");
        let _ = writeln!(s, "\t.section .initcallearly.init,\"a\",@progbits");
        let _ = writeln!(s, "\t.balign 4");
        let _ = writeln!(s, "\t.long .Lresurgo_boot{i} - .");
    }
    s.push_str("\t.section .note.GNU-stack,\"\",@progbits\n");
    s
}

/// One line per unresolved symbol: `NAME (used in FILE: FUNCTION, ...; called|address taken)`.
pub fn report_lines(unresolved: &BTreeMap<String, Vec<Reference>>) -> Vec<String> {
    unresolved
        .iter()
        .map(|(name, uses)| {
            let places: Vec<String> = uses
                .iter()
                .map(|u| match &u.function {
                    Some(f) => format!("{}: {f}", u.object),
                    None => u.object.clone(),
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let how = if uses.iter().all(|u| u.call) { "called" } else { "address taken or data" };
            format!("{name} ({how}; in {})", places.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(dir: &std::path::Path, name: &str, src: &str) -> Vec<u8> {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, src).unwrap();
        let o = dir.join(format!("{name}.o"));
        let ok = std::process::Command::new("cc")
            .args(["-O2", "-ffreestanding", "-fno-pie", "-fno-asynchronous-unwind-tables", "-c"])
            .arg(&c)
            .arg("-o")
            .arg(&o)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        std::fs::read(&o).unwrap()
    }

    fn syms(defined: &[&str], undefined: &[&str]) -> ObjectSymbols {
        ObjectSymbols {
            defined: defined.iter().map(|s| s.to_string()).collect(),
            undefined: undefined.iter().map(|s| (s.to_string(), Vec::new())).collect(),
        }
    }

    #[test]
    fn library_objects_are_taken_only_when_something_needs_them() {
        let driver = [syms(&["probe"], &["strlen", "dma_pool_create"])];
        let lib = [
            syms(&["strlen", "strcmp"], &[]),
            syms(&["dma_pool_create", "dmam_pool_create"], &["devres_add", "crc32_le"]),
            syms(&["crc32_le"], &[]),
            syms(&["sort"], &["devres_add"]),
            syms(&["hex_dump"], &[]),
        ];
        // dmapool brings crc32 along; sort and hexdump stay out, and so does
        // what only sort would need.
        assert_eq!(needed(&driver, &lib, &BTreeSet::new()), [0, 1, 2]);
        // A driver that uses none of it takes none of it, unless the shim does.
        let plain = [syms(&["probe"], &["printk"])];
        assert!(needed(&plain, &lib, &BTreeSet::new()).is_empty());
        assert_eq!(needed(&plain, &lib, &BTreeSet::from(["hex_dump".to_string()])), [4]);
        // What the driver defines itself is not looked for.
        let own = [syms(&["probe", "strlen"], &["strlen"])];
        assert!(needed(&own, &lib, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn undefined_references_name_their_function_and_kind() {
        let tmp = std::env::temp_dir().join(format!("resurgo-traps-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let obj = cc(
            &tmp,
            "drv",
            "int pcim_enable_device(void *);\nint shim_fn(void);\nint ethtool_op_get_link(void *);\n\
             struct ops { int (*get_link)(void *); };\n\
             const struct ops drv_ops = { .get_link = ethtool_op_get_link };\n\
             int local_helper(void) { return 1; }\n\
             int drv_probe(void *p) { if (pcim_enable_device(p)) return -1; return shim_fn() + local_helper(); }\n",
        );
        let syms = object_symbols("drivers/net/x/drv.c", &obj).unwrap();
        assert!(syms.defined.contains("drv_probe") && syms.defined.contains("drv_ops"));
        let uses = &syms.undefined["pcim_enable_device"];
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].function.as_deref(), Some("drv_probe"));
        assert!(uses[0].call);
        let ops = &syms.undefined["ethtool_op_get_link"];
        assert_eq!(ops[0].function.as_deref(), Some("drv_ops"));
        assert!(!ops[0].call);

        let provided = BTreeSet::from(["shim_fn".to_string()]);
        let missing = unresolved(&[syms], &provided);
        assert_eq!(missing.keys().collect::<Vec<_>>(), ["ethtool_op_get_link", "pcim_enable_device"]);
        let lines = report_lines(&missing);
        assert_eq!(lines[1], "pcim_enable_device (called; in drivers/net/x/drv.c: drv_probe)");
        assert!(lines[0].contains("address taken or data"), "{}", lines[0]);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn symbols_defined_by_another_object_or_the_linker_are_resolved() {
        let a = ObjectSymbols {
            defined: BTreeSet::from(["helper".to_string()]),
            undefined: BTreeMap::from([
                ("other".to_string(), vec![]),
                ("__start_ddekit_initcalls".to_string(), vec![]),
            ]),
        };
        let b = ObjectSymbols {
            defined: BTreeSet::from(["other".to_string()]),
            undefined: BTreeMap::from([("helper".to_string(), vec![]), ("gone".to_string(), vec![])]),
        };
        let missing = unresolved(&[a, b], &BTreeSet::new());
        assert_eq!(missing.keys().collect::<Vec<_>>(), ["gone"]);
    }

    #[test]
    fn traps_assemble_and_define_each_symbol() {
        let text =
            trap_assembly("demo", &["pcim_enable_device", "dmam_alloc_coherent", "bad name"], &["radix_tree_init"]);
        assert!(text.contains(".globl pcim_enable_device"));
        assert!(text.contains(".asciz \"dmam_alloc_coherent\""));
        assert!(!text.contains("bad name:"));
        assert!(text.contains(".section .initcallearly.init") && text.contains("call radix_tree_init"));
        let tmp = std::env::temp_dir().join(format!("resurgo-trap-asm-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let s = tmp.join("traps.s");
        std::fs::write(&s, &text).unwrap();
        let o = tmp.join("traps.o");
        assert!(std::process::Command::new("cc").arg("-c").arg(&s).arg("-o").arg(&o).status().unwrap().success());
        let syms = object_symbols("traps", &std::fs::read(&o).unwrap()).unwrap();
        assert!(syms.defined.contains("pcim_enable_device") && syms.defined.contains("dmam_alloc_coherent"));
        let undefined: BTreeSet<&str> = syms.undefined.keys().map(String::as_str).collect();
        assert_eq!(undefined, BTreeSet::from([TRAP_HANDLER, "radix_tree_init"]));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn plain_symbols() {
        assert!(plain_symbol("pci_enable_device"));
        assert!(plain_symbol("__x86_indirect_thunk_rax"));
        assert!(!plain_symbol("9lives"));
        assert!(!plain_symbol("a\"b"));
        assert!(!plain_symbol(""));
    }
}
