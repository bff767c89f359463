//! Requests and replies as values: the message registers are copied out when a
//! call arrives and filled only just before the reply is sent, because
//! everything in between (logging, kernel calls) uses them too.

use rt::MsgTag;

/// Words of a request netd looks at (no request of `nic` or `sockets` has more).
pub const ARGS: usize = 4;
/// Registers a reply may fill: words plus two per capability item (the
/// longest reply is `nicconfig::SHOW` with a full multicast list).
pub const REPLY_REGS: usize = protocols::nicconfig::SHOW_WORDS + protocols::nicconfig::MAX_MC;

#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The protocol label of the call.
    pub op: i64,
    /// Words the caller sent (at most [`ARGS`] are kept).
    pub words: usize,
    pub args: [u64; ARGS],
}

impl Request {
    /// The request in the message registers, as just received.
    pub fn take(tag: MsgTag) -> Request {
        let mut args = [0u64; ARGS];
        rt::ipc::read_mrs(0, &mut args[..tag.words().min(ARGS)]);
        Request { op: tag.label(), words: tag.words(), args }
    }
}

const _: () = assert!(REPLY_REGS <= rt::ipc::MR_COUNT);

#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub tag: MsgTag,
    pub regs: [u64; REPLY_REGS],
}

impl Reply {
    /// Words, then capability items (`rt::ipc::cap_item`).
    pub fn new(words: &[u64], items: &[[u64; 2]]) -> Reply {
        let mut regs = [0u64; REPLY_REGS];
        let (w, n) = (words.len().min(REPLY_REGS), items.len().min((REPLY_REGS - words.len().min(REPLY_REGS)) / 2));
        regs[..w].copy_from_slice(&words[..w]);
        for (k, [a, b]) in items[..n].iter().enumerate() {
            regs[w + 2 * k] = *a;
            regs[w + 2 * k + 1] = *b;
        }
        Reply { tag: MsgTag::new(0, w, n), regs }
    }

    /// A one-word reply.
    pub fn word(w: u64) -> Reply {
        Reply::new(&[w], &[])
    }

    /// Puts the reply into the message registers (just before sending it).
    pub fn load(&self) {
        let n = (self.tag.words() + 2 * self.tag.items()).min(REPLY_REGS);
        // `REPLY_REGS` is within the registers (checked below), so this fits.
        let _ = rt::ipc::write_mrs(0, &self.regs[..n]);
    }
}
