//! Names for fault addresses, from a task image's symbol table.

use elf::ElfBytes;
use elf::endian::LittleEndian;

/// The function containing `addr` in an ELF image (Rust names demangled,
/// without their hash), and the offset into it.
pub fn symbolize(image: &[u8], addr: u64) -> Option<(alloc::string::String, u64)> {
    let (name, off) = raw_symbol(image, addr)?;
    Some((alloc::format!("{:#}", rustc_demangle::demangle(name)), off))
}

fn raw_symbol(image: &[u8], addr: u64) -> Option<(&str, u64)> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(image).ok()?;
    let (symtab, strtab) = file.symbol_table().ok()??;
    let mut best: Option<(u64, u64, u32)> = None;
    for sym in symtab.iter() {
        if sym.st_symtype() != elf::abi::STT_FUNC || sym.st_value == 0 {
            continue;
        }
        let (start, size) = (sym.st_value, sym.st_size.max(1));
        if addr >= start && addr < start + size && best.is_none_or(|b| start > b.0) {
            best = Some((start, size, sym.st_name));
        }
    }
    let (start, _, name) = best?;
    Some((strtab.get(name as usize).ok()?, addr - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    #[unsafe(no_mangle)]
    extern "C" fn reincarnation_symbols_probe() -> u64 {
        42
    }

    #[test]
    fn finds_a_function_in_this_test_binary() {
        let image = std::fs::read("/proc/self/exe").unwrap();
        // The test binary is position independent: its symbols are link-time
        // addresses, so compare against the link-time address of the probe.
        let file = ElfBytes::<LittleEndian>::minimal_parse(&image).unwrap();
        let (symtab, strtab) = file.symbol_table().unwrap().unwrap();
        let sym = symtab
            .iter()
            .find(|s| strtab.get(s.st_name as usize).ok() == Some("reincarnation_symbols_probe"))
            .expect("probe symbol");
        assert_eq!(reincarnation_symbols_probe(), 42);
        let (name, off) = symbolize(&image, sym.st_value + 1).unwrap();
        assert_eq!((name.as_str(), off), ("reincarnation_symbols_probe", 1));
        // Rust names come out demangled, without the hash.
        let mangled = symtab
            .iter()
            .find(|s| {
                strtab
                    .get(s.st_name as usize)
                    .is_ok_and(|n| n.contains("finds_a_function_in_this_test_binary") && !n.contains("closure"))
            })
            .expect("the test function");
        let (name, _) = symbolize(&image, mangled.st_value).unwrap();
        assert!(name.ends_with("symbols::tests::finds_a_function_in_this_test_binary"), "{name}");
        assert!(symbolize(&image, 1).is_none());
        assert!(symbolize(b"not an elf", 0).is_none());
    }
}
