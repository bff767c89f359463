//! The message registers, reached only by copying.
//!
//! A thread's message registers are memory in its UTCB that every IPC, every
//! kernel call and every log line overwrites. No reference to them ever
//! leaves this module: words go in and come out by value (`mr`, `set_mr`,
//! `write_mrs`, `mrs`, `received`), and a typed message is encoded or
//! decoded through a copy on the stack (`encode`, `encode_call`,
//! `decode_call`, `compose`). So
//! a log line between writing a request and sending it cannot be aliased by
//! anything a caller still holds; the borrow checker has nothing to hold.
//!
//! The same functions exist on both kernels (`rt::ipc` re-exports them);
//! only where the UTCB is differs (`platform_base`).

use l4_sys::message::{Call, Message};
use l4_sys::{Error, MsgTag};

/// Message registers a thread has (64 words on both kernels; Fiasco's
/// messages use at most the first 63).
pub const MR_COUNT: usize = 64;

/// The first message register of the calling thread.
#[inline(always)]
fn base() -> *mut u64 {
    platform_base()
}

#[cfg(not(feature = "fiasco"))]
#[inline(always)]
fn platform_base() -> *mut u64 {
    const _: () = assert!(l4_sys::utcb::MR_COUNT == MR_COUNT);
    let utcb = crate::ipc::utcb_ptr();
    // SAFETY: `utcb_ptr` is this thread's mapped UTCB; taking a field's address
    // makes no reference.
    unsafe { (&raw mut (*utcb).mr).cast() }
}

#[cfg(feature = "fiasco")]
#[inline(always)]
fn platform_base() -> *mut u64 {
    let utcb = l4_sys::fiasco::utcb::current();
    // SAFETY: %gs:0 is this thread's mapped UTCB; taking a field's address makes
    // no reference.
    unsafe { (&raw mut (*utcb).mr).cast() }
}

/// Message register `I` (checked at compile time).
#[inline(always)]
pub fn mr<const I: usize>() -> u64 {
    const { assert!(I < MR_COUNT) };
    // SAFETY: `I` is within the registers (checked above); the UTCB is mapped for
    // the thread's life and no reference to it exists (module header).
    unsafe { base().add(I).read() }
}

/// Sets message register `I` (checked at compile time).
#[inline(always)]
pub fn set_mr<const I: usize>(value: u64) {
    const { assert!(I < MR_COUNT) };
    // SAFETY: as in `mr`.
    unsafe { base().add(I).write(value) }
}

/// The first `N` message registers (checked at compile time).
#[inline(always)]
pub fn mrs<const N: usize>() -> [u64; N] {
    const { assert!(N <= MR_COUNT) };
    let mut out = [0; N];
    // SAFETY: `N` words from the first register are within the registers; `out`
    // is a separate local array.
    unsafe { core::ptr::copy_nonoverlapping(base(), out.as_mut_ptr(), N) };
    out
}

/// Writes `words` into the message registers from register `at`; refused
/// (`InvalidArgument`, nothing written) if they would not fit.
#[inline]
pub fn write_mrs(at: usize, words: &[u64]) -> Result<(), Error> {
    if at.checked_add(words.len()).is_none_or(|end| end > MR_COUNT) {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: the range `at..at + len` was checked to lie within the registers;
    // `words` is caller memory, never the registers (no reference to them exists).
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), base().add(at), words.len()) };
    Ok(())
}

/// Copies message registers from `at` into `out`, as many as there are;
/// returns how many were copied.
#[inline]
fn read_mrs(at: usize, out: &mut [u64]) -> usize {
    let n = out.len().min(MR_COUNT.saturating_sub(at));
    // SAFETY: `at..at + n` lies within the registers (n is clamped); `out` is
    // caller memory.
    unsafe { core::ptr::copy_nonoverlapping(base().add(at.min(MR_COUNT)), out.as_mut_ptr(), n) };
    n
}

/// A copy of the words of a message, taken from the registers right after it
/// arrived; it stays valid across any later IPC or log line.
#[derive(Clone)]
pub struct Words {
    buf: [u64; MR_COUNT],
    len: usize,
}

impl Words {
    /// The words as a slice.
    pub fn as_slice(&self) -> &[u64] {
        &self.buf[..self.len]
    }

    /// Word `i` of the message, 0 past its end (as an absent argument).
    pub fn word(&self, i: usize) -> u64 {
        self.as_slice().get(i).copied().unwrap_or(0)
    }

    /// All the registers' worth of words: the message's, then zeros (never
    /// what an earlier message left in the registers).
    pub fn padded(&self) -> &[u64; MR_COUNT] {
        &self.buf
    }
}

impl core::ops::Deref for Words {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        self.as_slice()
    }
}

/// The first `n` message registers (at most all of them), copied.
pub fn received(n: usize) -> Words {
    let mut w = Words { buf: [0; MR_COUNT], len: 0 };
    w.len = read_mrs(0, &mut w.buf[..n.min(MR_COUNT)]);
    w
}

/// The words of a message just received with `tag` (its untyped words).
pub fn received_words(tag: MsgTag) -> Words {
    received(tag.words())
}

/// Encodes `message` into the message registers; returns its length in words.
pub fn encode(message: &impl Message) -> Result<usize, Error> {
    let mut buf = [0; MR_COUNT];
    let n = message.encode(&mut buf)?;
    write_mrs(0, buf.get(..n).ok_or(Error::InvalidArgument)?)?;
    Ok(n)
}

/// Encodes a request of a server's protocol (its label names the operation)
/// into the message registers; returns the tag to send it with (no items).
pub fn encode_call(request: &impl Call) -> Result<MsgTag, Error> {
    let mut buf = [0; MR_COUNT];
    let n = request.encode(&mut buf)?;
    write_mrs(0, buf.get(..n).ok_or(Error::InvalidArgument)?)?;
    Ok(MsgTag::new(request.label(), n, 0))
}

/// Decodes the message just received with `tag` as a request of a server's
/// protocol.
pub fn decode_call<C: Call>(tag: MsgTag) -> Result<C, Error> {
    C::decode_message(tag, &received_words(tag))
}

/// What an encoder written as `fn(&mut [u64], ..) -> T` returns: the tag of
/// the message it laid out, if it laid one out.
pub trait Laid {
    fn laid_tag(&self) -> Option<MsgTag>;
}

impl Laid for MsgTag {
    fn laid_tag(&self) -> Option<MsgTag> {
        Some(*self)
    }
}

impl Laid for Option<MsgTag> {
    fn laid_tag(&self) -> Option<MsgTag> {
        *self
    }
}

impl<T> Laid for (MsgTag, T) {
    fn laid_tag(&self) -> Option<MsgTag> {
        Some(self.0)
    }
}

/// Lets `fill` lay out a message in a scratch copy of the registers; then the
/// words and items its tag counts are copied into the registers, and what
/// `fill` returned is returned.
pub fn compose<T: Laid>(fill: impl FnOnce(&mut [u64]) -> T) -> T {
    let mut buf = [0; MR_COUNT];
    let laid = fill(&mut buf);
    if let Some(tag) = laid.laid_tag() {
        let n = (tag.words() + 2 * tag.items()).min(MR_COUNT);
        // `n` is at most MR_COUNT, so the write cannot be refused.
        let _ = write_mrs(0, &buf[..n]);
    }
    laid
}
