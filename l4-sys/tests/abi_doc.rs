//! `doc/abi.md` is true to the ABI: every constant the page names is written
//! there with the value `l4-sys` defines, and every protocol label in its
//! object table is one `l4-sys` knows. A change to either side that the
//! other does not follow fails here.

use l4_sys::cap::slot;
use l4_sys::proto::{self, task::MapAccess};
use l4_sys::syscall::Flags;
use l4_sys::utcb::{BR_COUNT, ITEM_MAP, MR_COUNT};
use l4_sys::{MsgTag, Rights};

const PAGE: &str = include_str!("../../doc/abi.md");

/// Collapses runs of whitespace so that a fragment matches across the
/// page's line breaks.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn says(fragment: &str) {
    assert!(flat(PAGE).contains(&flat(fragment)), "doc/abi.md does not say `{fragment}`");
}

#[test]
fn the_system_call_registers() {
    says(&format!(
        "`SEND={} RECV={} OPEN_WAIT={} REPLY={}`",
        Flags::SEND.bits(),
        Flags::RECV.bits(),
        Flags::OPEN_WAIT.bits(),
        Flags::REPLY.bits()
    ));
    // The tag's layout: label at bit 16, items at bit 6, words at bit 0.
    says("`label << 16 \\| items << 6 \\| words`");
    let (label, items, words) = (0x1234_i64, 3_usize, 5_usize);
    assert_eq!(MsgTag::new(label, words, items).0, ((label as u64) << 16) | ((items as u64) << 6) | words as u64);
    says(&format!("`mr[0..{MR_COUNT}]`"));
    says("(`slot << 12`)");
    assert_eq!(slot::FIRST_GRANT.selector(), 16 << 12);
}

#[test]
fn items_and_initial_slots() {
    says(&format!("`ITEM_MAP` ({ITEM_MAP})"));
    says(&format!("buffer register 0 (of {BR_COUNT})"));
    says(&format!(
        "own task capability in slot {}, its first thread in slot {}, its factory in slot {} and the log in slot {}",
        slot::TASK.0,
        slot::THREAD.0,
        slot::FACTORY.0,
        slot::LOG.0
    ));
    says(&format!("follow from slot {}", slot::FIRST_GRANT.0));
}

#[test]
fn rights_and_map_access() {
    says(&format!(
        "(WRITE {}, SERVER {}, READ {}, DELEGATE {})",
        Rights::WRITE.bits(),
        Rights::SERVER.bits(),
        Rights::READ.bits(),
        Rights::DELEGATE.bits()
    ));
    says(&format!("DEBUG ({:#x})", Rights::DEBUG.bits()));
    says(&format!(
        "`MapAccess` (EXECUTE {}, WRITE {}, READ {})",
        MapAccess::EXECUTE.bits(),
        MapAccess::WRITE.bits(),
        MapAccess::READ.bits()
    ));
    says(&format!("`task::POKE` (address, 1 to {} bytes", proto::task::POKE_MAX));
}

/// The object table: each row's label as the page writes it.
#[test]
fn object_labels() {
    let named = [
        ("PROTO_TASK", proto::PROTO_TASK),
        ("PROTO_THREAD", proto::PROTO_THREAD),
        ("PROTO_KOBJECT", proto::PROTO_KOBJECT),
        ("PROTO_IRQ", proto::PROTO_IRQ),
        ("PROTO_IRQ_SENDER", proto::PROTO_IRQ_SENDER),
        ("PROTO_FACTORY", proto::PROTO_FACTORY),
        ("PROTO_LOG", proto::PROTO_LOG),
    ];
    for (name, label) in named {
        says(&format!("`{name}` ({label})"));
    }
    let bare = [
        ("| dataspace |", proto::PROTO_DATASPACE),
        ("| ICU |", proto::PROTO_ICU),
        ("| I/O ports |", proto::PROTO_IO_PORTS),
        ("| device memory |", proto::PROTO_IO_MEM),
        ("| kernel |", proto::PROTO_KERNEL),
        ("| IOMMU |", proto::PROTO_IOMMU),
        ("| DMA domain |", proto::PROTO_DMA_DOMAIN),
    ];
    says(&format!("`MAX_MAPPINGS` {}", proto::dma_domain::MAX_MAPPINGS));
    for (row, label) in bare {
        says(&format!("{row} `-{:#x}` |", -label));
    }
    // No row names a label the code does not define.
    let known: Vec<String> = named.iter().map(|(n, _)| format!("`{n}`")).collect();
    for word in PAGE.split_whitespace().filter(|w| w.starts_with("`PROTO_")) {
        let word = word.trim_end_matches(|c: char| c != '`');
        assert!(known.iter().any(|k| k == word), "doc/abi.md names {word}, which l4-sys does not define");
    }
}
