//! The entries: values with versions, who holds them, and what each holder
//! uses against its quota.

use crate::{Error, Limits};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Bound;
use protocols::store::{KIND_BYTES, KIND_CAP, KIND_INT, KIND_STR};

/// A capability the store keeps in its own table, in slot `slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRef {
    pub slot: u32,
    /// Lookers may delegate it further.
    pub delegate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    Cap(CapRef),
}

impl Value {
    /// The protocol's `KIND_*`.
    pub fn kind(&self) -> u8 {
        match self {
            Value::Int(_) => KIND_INT,
            Value::Str(_) => KIND_STR,
            Value::Bytes(_) => KIND_BYTES,
            Value::Cap(_) => KIND_CAP,
        }
    }

    /// The bytes of a string or blob (nothing for the others).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Value::Str(s) => s.as_bytes(),
            Value::Bytes(b) => b,
            Value::Int(_) | Value::Cap(_) => &[],
        }
    }

    pub fn cap(&self) -> Option<CapRef> {
        match self {
            Value::Cap(c) => Some(*c),
            _ => None,
        }
    }
}

/// Bytes an entry is charged for beyond its key and payload: the map's node
/// and the entry's own fields, roughly.
pub const ENTRY_OVERHEAD: usize = 64;

/// What an entry costs its holder, in bytes.
pub fn cost(key: &str, value: &Value) -> usize {
    ENTRY_OVERHEAD + key.len() + value.bytes().len()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: Value,
    pub version: u64,
    /// The task charged for it: the namespace's owner, or whoever claimed a
    /// global name.
    pub holder: String,
}

/// What one task uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub entries: u32,
    pub bytes: usize,
    pub caps: u32,
    pub subscriptions: u32,
}

/// A write that happened.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    pub created: bool,
    pub version: u64,
    /// The value it replaced (a capability in it is the caller's to drop).
    pub old: Option<Value>,
}

#[derive(Debug, Default)]
pub struct Table {
    entries: BTreeMap<String, Entry>,
    usage: BTreeMap<String, Usage>,
    total: usize,
    version: u64,
}

/// A copy of `s` on the heap, or `NoMemory`.
pub fn try_string(s: &str) -> Result<String, Error> {
    let mut out = String::new();
    out.try_reserve_exact(s.len()).map_err(|_| Error::NoMemory)?;
    out.push_str(s);
    Ok(out)
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// The next version number: larger than every one before.
    pub fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Writes `value` under `key` for `holder`, within `holder`'s quota and the
    /// store's total. The caller has checked the permission.
    pub fn put(&mut self, holder: &str, key: &str, value: Value, limits: &Limits) -> Result<Written, Error> {
        let new_cost = cost(key, &value);
        let (old_cost, old_cap) = match self.entries.get(key) {
            // An entry stays with its holder: usage is charged to one task.
            Some(e) if e.holder != holder => return Err(Error::Denied),
            Some(e) => (cost(key, &e.value), e.value.cap().is_some()),
            None => (0, false),
        };
        let exists = self.entries.contains_key(key);
        let u = self.usage.get(holder).copied().unwrap_or_default();
        let new_cap = value.cap().is_some();
        if (!exists && u.entries >= limits.entries)
            || u.bytes - old_cost + new_cost > limits.bytes
            || (new_cap && !old_cap && u.caps >= limits.caps)
        {
            return Err(Error::Quota);
        }
        if self.total - old_cost + new_cost > limits.total_bytes {
            return Err(Error::NoMemory);
        }
        // Every allocation before the first change: a failure leaves no trace.
        let new_key = if exists { None } else { Some((try_string(key)?, try_string(holder)?)) };
        let usage_key = if self.usage.contains_key(holder) { None } else { Some(try_string(holder)?) };
        let version = self.next_version();
        let old = if let Some(e) = self.entries.get_mut(key) {
            e.version = version;
            Some(core::mem::replace(&mut e.value, value))
        } else {
            if let Some((key, holder)) = new_key {
                self.entries.insert(key, Entry { value, version, holder });
            }
            None
        };
        if let Some(k) = usage_key {
            self.usage.insert(k, Usage::default());
        }
        if let Some(u) = self.usage.get_mut(holder) {
            u.entries += !exists as u32;
            u.bytes = u.bytes - old_cost + new_cost;
            u.caps = u.caps + new_cap as u32 - old_cap as u32;
        }
        self.total = self.total - old_cost + new_cost;
        Ok(Written { created: !exists, version, old })
    }

    /// Removes an entry; returns the version of the deletion and the entry.
    pub fn delete(&mut self, key: &str) -> Option<(u64, Entry)> {
        let entry = self.entries.remove(key)?;
        let c = cost(key, &entry.value);
        if let Some(u) = self.usage.get_mut(&entry.holder) {
            u.entries -= 1;
            u.bytes -= c;
            u.caps -= entry.value.cap().is_some() as u32;
        }
        self.total -= c;
        Some((self.next_version(), entry))
    }

    /// Entries after `key`, in key order.
    pub fn after<'a>(&'a self, key: &str) -> impl Iterator<Item = (&'a String, &'a Entry)> + use<'a> {
        self.entries.range::<str, _>((Bound::Excluded(key), Bound::Unbounded))
    }

    pub fn usage(&self, holder: &str) -> Usage {
        self.usage.get(holder).copied().unwrap_or_default()
    }

    /// Bytes charged over all holders.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn limits() -> Limits {
        Limits { entries: 3, bytes: 3 * (ENTRY_OVERHEAD + 20), caps: 1, total_bytes: 1 << 20, ..Limits::default() }
    }

    #[test]
    fn versions_rise_and_usage_follows_writes() {
        let mut t = Table::new();
        let l = limits();
        let a = t.put("eth0", "eth0/a", Value::Int(1), &l).unwrap();
        assert!(a.created && a.version == 1 && a.old.is_none());
        let b = t.put("eth0", "eth0/a", Value::Str("xyz".to_string()), &l).unwrap();
        assert!(!b.created && b.version == 2 && b.old == Some(Value::Int(1)));
        assert_eq!(t.usage("eth0"), Usage { entries: 1, bytes: ENTRY_OVERHEAD + 6 + 3, caps: 0, subscriptions: 0 });
        let (v, e) = t.delete("eth0/a").unwrap();
        assert_eq!((v, e.version), (3, 2));
        assert_eq!(t.usage("eth0"), Usage::default());
        assert_eq!(t.total(), 0);
        assert!(t.delete("eth0/a").is_none());
    }

    #[test]
    fn quotas_bound_entries_bytes_and_capabilities() {
        let mut t = Table::new();
        let l = limits();
        for k in ["e/1", "e/2", "e/3"] {
            t.put("e", k, Value::Int(0), &l).unwrap();
        }
        assert_eq!(t.put("e", "e/4", Value::Int(0), &l), Err(Error::Quota), "entries");
        t.put("e", "e/3", Value::Int(5), &l).expect("replacing needs no new entry");
        t.delete("e/3");
        assert_eq!(t.put("e", "e/3", Value::Bytes(alloc::vec![0; 200]), &l), Err(Error::Quota), "bytes");
        t.put("e", "e/3", Value::Cap(CapRef { slot: 300, delegate: false }), &l).unwrap();
        t.delete("e/2");
        assert_eq!(t.put("e", "e/2", Value::Cap(CapRef { slot: 301, delegate: false }), &l), Err(Error::Quota), "caps");
        let w = t.put("e", "e/3", Value::Cap(CapRef { slot: 302, delegate: false }), &l).unwrap();
        assert_eq!(w.old.and_then(|v| v.cap()).map(|c| c.slot), Some(300), "the replaced capability comes back");
        assert_eq!(t.usage("e").caps, 1);
        assert_eq!(t.usage("other"), Usage::default(), "quotas are per holder");
        t.put("other", "other/1", Value::Int(0), &l).unwrap();
    }

    #[test]
    fn the_store_total_bounds_everyone() {
        let mut t = Table::new();
        let l = Limits { total_bytes: 2 * (ENTRY_OVERHEAD + 3), ..limits() };
        t.put("a", "a/1", Value::Int(0), &l).unwrap();
        t.put("b", "b/1", Value::Int(0), &l).unwrap();
        assert_eq!(t.put("c", "c/1", Value::Int(0), &l), Err(Error::NoMemory));
    }

    #[test]
    fn after_walks_in_key_order() {
        let mut t = Table::new();
        let l = Limits::default();
        for k in ["b/2", "a/1", "b/1"] {
            t.put(k.split('/').next().unwrap(), k, Value::Int(0), &l).unwrap();
        }
        let keys: Vec<&str> = t.after("").map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a/1", "b/1", "b/2"]);
        let keys: Vec<&str> = t.after("b/1").map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b/2"]);
    }
}
