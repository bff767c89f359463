//! Requests and replies as values: the message registers are copied out when a
//! call arrives and filled only just before the reply is sent, because
//! everything in between (logging, kernel calls) uses them too.

use rt::MsgTag;
use rt::sys::message::{Call, Message};
/// Registers a reply may fill: words plus two per capability item (the
/// longest reply is `nicconfig::SHOW` with a full multicast list).
pub const REPLY_REGS: usize = protocols::nicconfig::SHOW_MAX_WORDS;

/// A call as it arrived: its tag and a copy of its words, decoded by the
/// endpoint that serves it into its protocol's request type.
#[derive(Clone)]
pub struct Request {
    tag: MsgTag,
    words: rt::ipc::Words,
}

impl Request {
    /// The request in the message registers, as just received.
    pub fn take(tag: MsgTag) -> Request {
        Request { tag, words: rt::ipc::received_words(tag) }
    }

    /// The call as a request of protocol `C`: refused (typed, by the
    /// generated decoder) for a label `C` does not have, the wrong number of
    /// words, or a field out of its range.
    pub fn decode<C: Call>(&self) -> Result<C, rt::Error> {
        C::decode_message(self.tag, &self.words)
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

    /// A refusal of the `nic` protocol: its status word, and the kernel's
    /// code when one of netd's kernel calls failed.
    pub fn refusal(r: protocols::nic::Refusal) -> Reply {
        let mut words = [0u64; 2];
        let n = r.encode(&mut words);
        Reply::new(&words[..n], &[])
    }

    /// A reply declared with `l4_sys::reply!`: the status word 0, the
    /// reply's fields (`protocols::status::encode_reply`), then the items.
    pub fn typed<R: Message>(reply: &R, items: &[[u64; 2]]) -> Reply {
        let mut words = [0u64; REPLY_REGS];
        match protocols::status::encode_reply(reply, &mut words) {
            Ok(n) => Reply::new(&words[..n], items),
            // No declared reply is longer than `REPLY_REGS` (the longest
            // is checked by a host test of its protocol); an empty reply is
            // malformed to every client.
            Err(e) => {
                rt::error!("a reply does not fit {} registers: {}", REPLY_REGS, e);
                Reply::new(&[], &[])
            }
        }
    }

    /// Puts the reply into the message registers (just before sending it).
    pub fn load(&self) {
        let n = (self.tag.words() + 2 * self.tag.items()).min(REPLY_REGS);
        // `REPLY_REGS` is within the registers (checked below), so this fits.
        let _ = rt::ipc::write_mrs(0, &self.regs[..n]);
    }
}
