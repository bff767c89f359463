//! Values longer than one message: the chunks of a [`PUT`] are collected per
//! client until the value is whole.
//!
//! A client writes one long value at a time: a chunk at offset 0 starts (or
//! restarts) it, every further chunk must continue exactly where the previous
//! one ended, for the same key, kind and total length. Anything else drops
//! what was collected.
//!
//! [`PUT`]: protocols::store::PUT

use crate::Error;
use crate::table::try_string;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use protocols::store::MAX_VALUE;

#[derive(Debug)]
struct Pending {
    key: String,
    kind: u8,
    total: usize,
    buf: Vec<u8>,
}

/// What a chunk completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// More chunks are needed.
    More,
    /// The value is whole.
    Done { key: String, kind: u8, bytes: Vec<u8> },
}

#[derive(Debug, Default)]
pub struct Staging {
    pending: BTreeMap<String, Pending>,
}

fn try_vec(capacity: usize) -> Result<Vec<u8>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity).map_err(|_| Error::NoMemory)?;
    Ok(v)
}

impl Staging {
    pub fn new() -> Staging {
        Staging::default()
    }

    /// Takes one chunk of `client`'s value for `key`.
    pub fn chunk(
        &mut self,
        client: &str,
        key: &str,
        kind: u8,
        total: usize,
        offset: usize,
        data: &[u8],
    ) -> Result<Chunk, Error> {
        if total > MAX_VALUE {
            return Err(Error::TooBig);
        }
        if offset > total || data.len() > total - offset {
            self.pending.remove(client);
            return Err(Error::Invalid);
        }
        if offset == 0 {
            self.pending.remove(client);
            let mut buf = try_vec(total)?;
            buf.extend_from_slice(data);
            if buf.len() == total {
                return Ok(Chunk::Done { key: try_string(key)?, kind, bytes: buf });
            }
            let p = Pending { key: try_string(key)?, kind, total, buf };
            self.pending.insert(try_string(client)?, p);
            return Ok(Chunk::More);
        }
        let Some(p) = self.pending.get_mut(client) else { return Err(Error::Sequence) };
        if p.key != key || p.kind != kind || p.total != total || p.buf.len() != offset {
            self.pending.remove(client);
            return Err(Error::Sequence);
        }
        p.buf.extend_from_slice(data);
        if p.buf.len() < p.total {
            return Ok(Chunk::More);
        }
        let p = self.pending.remove(client).ok_or(Error::Sequence)?;
        Ok(Chunk::Done { key: p.key, kind: p.kind, bytes: p.buf })
    }

    /// Bytes held for unfinished values.
    pub fn bytes(&self) -> usize {
        self.pending.values().map(|p| p.total).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn chunks_in_order_make_a_value() {
        let mut s = Staging::new();
        assert_eq!(s.chunk("eth0", "eth0/b", 3, 6, 0, b"ab"), Ok(Chunk::More));
        assert_eq!(s.chunk("netd", "netd/b", 3, 2, 0, b"xy").map(|c| c != Chunk::More), Ok(true), "one chunk");
        assert_eq!(s.chunk("eth0", "eth0/b", 3, 6, 2, b"cd"), Ok(Chunk::More));
        assert_eq!(s.bytes(), 6);
        let done = s.chunk("eth0", "eth0/b", 3, 6, 4, b"ef").unwrap();
        assert_eq!(done, Chunk::Done { key: "eth0/b".to_string(), kind: 3, bytes: b"abcdef".to_vec() });
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn anything_out_of_order_drops_the_value() {
        let mut s = Staging::new();
        s.chunk("c", "c/k", 3, 6, 0, b"ab").unwrap();
        assert_eq!(s.chunk("c", "c/k", 3, 6, 4, b"ef"), Err(Error::Sequence), "a gap");
        assert_eq!(s.chunk("c", "c/k", 3, 6, 2, b"cd"), Err(Error::Sequence), "dropped after the gap");
        s.chunk("c", "c/k", 3, 6, 0, b"ab").unwrap();
        assert_eq!(s.chunk("c", "c/other", 3, 6, 2, b"cd"), Err(Error::Sequence), "another key");
        s.chunk("c", "c/k", 3, 6, 0, b"ab").unwrap();
        assert_eq!(s.chunk("c", "c/k", 2, 6, 2, b"cd"), Err(Error::Sequence), "another kind");
        s.chunk("c", "c/k", 3, 6, 0, b"ab").unwrap();
        assert_eq!(s.chunk("c", "c/k", 3, 6, 2, b"cdefg"), Err(Error::Invalid), "past the end");
        assert_eq!(s.chunk("c", "c/k", 3, 6, 7, b""), Err(Error::Invalid));
        assert_eq!(s.chunk("c", "c/k", 3, MAX_VALUE + 1, 0, b""), Err(Error::TooBig));
        assert_eq!(s.chunk("d", "d/k", 3, 4, 2, b"cd"), Err(Error::Sequence), "never started");
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn a_new_start_replaces_the_unfinished_value() {
        let mut s = Staging::new();
        s.chunk("c", "c/k", 3, 6, 0, b"ab").unwrap();
        s.chunk("c", "c/j", 3, 4, 0, b"12").unwrap();
        assert_eq!(s.bytes(), 4);
        assert!(matches!(s.chunk("c", "c/j", 3, 4, 2, b"34"), Ok(Chunk::Done { .. })));
    }
}
