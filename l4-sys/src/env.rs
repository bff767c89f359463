//! The environment page: how a creator tells a new task what it was given.
//!
//! A read-only page at [`crate::layout::ENV_PAGE`] holds the task's name and a
//! table of named entries: capabilities (by slot) and plain values (heap size,
//! resource addresses, configuration). The kernel writes init's; every creator
//! writes its children's. This is L4Re's "initial capabilities by name" idea, and
//! it is what lets a task ask for `"rtc.irq"` instead of a magic slot number.

pub const MAGIC: u64 = 0x5245_5355_5247_4f31; // "RESURGO1"
pub const NAME_LEN: usize = 40;
pub const TASK_NAME_LEN: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    Empty = 0,
    /// `value` is a capability slot index.
    Cap = 1,
    /// `value` is a plain number.
    Value = 2,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Entry {
    pub name: [u8; NAME_LEN],
    pub kind: u32,
    _reserved: u32,
    pub value: u64,
}

#[repr(C)]
pub struct Header {
    pub magic: u64,
    pub name: [u8; TASK_NAME_LEN],
    pub count: u32,
    _reserved: [u32; 5],
}

pub const CAPACITY: usize = (4096 - core::mem::size_of::<Header>()) / core::mem::size_of::<Entry>();

#[repr(C, align(4096))]
pub struct EnvPage {
    pub header: Header,
    pub entries: [Entry; CAPACITY],
}

const _: () = assert!(core::mem::size_of::<EnvPage>() == 4096);

/// Why an entry could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvError {
    Full,
    NameTooLong,
}

fn copy_name<const N: usize>(dst: &mut [u8; N], name: &str) -> Result<(), EnvError> {
    if name.len() > N {
        return Err(EnvError::NameTooLong);
    }
    dst.fill(0);
    dst[..name.len()].copy_from_slice(name.as_bytes());
    Ok(())
}

fn name_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("?")
}

impl EnvPage {
    pub fn init(&mut self, task_name: &str) {
        self.header.magic = MAGIC;
        self.header.count = 0;
        let n = task_name.len().min(TASK_NAME_LEN);
        self.header.name = [0; TASK_NAME_LEN];
        self.header.name[..n].copy_from_slice(&task_name.as_bytes()[..n]);
    }

    pub fn is_valid(&self) -> bool {
        self.header.magic == MAGIC && (self.header.count as usize) <= CAPACITY
    }

    pub fn task_name(&self) -> &str {
        name_str(&self.header.name)
    }

    pub fn push(&mut self, name: &str, kind: Kind, value: u64) -> Result<(), EnvError> {
        let i = self.header.count as usize;
        let e = self.entries.get_mut(i).ok_or(EnvError::Full)?;
        copy_name(&mut e.name, name)?;
        e.kind = kind as u32;
        e.value = value;
        self.header.count += 1;
        Ok(())
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, Kind, u64)> {
        let n = (self.header.count as usize).min(CAPACITY);
        self.entries[..n].iter().map(|e| {
            let kind = match e.kind {
                1 => Kind::Cap,
                2 => Kind::Value,
                _ => Kind::Empty,
            };
            (name_str(&e.name), kind, e.value)
        })
    }

    pub fn find(&self, name: &str, kind: Kind) -> Option<u64> {
        self.entries().find(|&(n, k, _)| n == name && k == kind).map(|(_, _, v)| v)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;

    fn page() -> Box<EnvPage> {
        // SAFETY: EnvPage is plain old data; all-zero is a valid (empty) value.
        unsafe { Box::new_zeroed().assume_init() }
    }

    #[test]
    fn entries_are_found_by_name_and_kind() {
        let mut p = page();
        p.init("rtc-test");
        p.push("rtc.irq", Kind::Cap, 17).unwrap();
        p.push("heap", Kind::Value, 1 << 20).unwrap();
        assert!(p.is_valid());
        assert_eq!(p.task_name(), "rtc-test");
        assert_eq!(p.find("rtc.irq", Kind::Cap), Some(17));
        assert_eq!(p.find("rtc.irq", Kind::Value), None);
        assert_eq!(p.find("heap", Kind::Value), Some(1 << 20));
        assert_eq!(p.push("a-name-that-is-far-too-long-for-any-env-entry", Kind::Cap, 1), Err(EnvError::NameTooLong));
    }

    #[test]
    fn page_fills_up_cleanly() {
        let mut p = page();
        p.init("x");
        for i in 0..CAPACITY {
            p.push("n", Kind::Value, i as u64).unwrap();
        }
        assert_eq!(p.push("n", Kind::Value, 0), Err(EnvError::Full));
        assert_eq!(p.entries().count(), CAPACITY);
    }
}
