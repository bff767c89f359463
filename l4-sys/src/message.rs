//! Messages to kernel objects as typed values, laid out in one place.
//!
//! Each object's operations are declared once, in [`crate::proto`], with
//! [`requests!`]: the operation number and the typed fields that follow it in
//! the message registers, optionally ending in a byte string. The macro makes
//! the enum and both directions of its encoding, so the kernel's decoder and
//! the tasks' stubs cannot disagree about which register holds what. Decoding
//! checks everything once: the operation is known, the message has exactly
//! the words the operation takes, every field holds a value of its type (a
//! slot fits a capability index, a flag is 0 or 1, rights and access bits are
//! defined ones) and a byte string's length fits both its bound and the words
//! sent. Anything else is an [`Error`], never a default.
//!
//! Replies with more than one word are structs declared with [`reply!`], the
//! same way.

use crate::{CapIdx, Error, Rights};

/// A value that travels in one message register.
pub trait Word: Sized + Copy {
    fn to_word(self) -> u64;
    /// The value a register holds, or `InvalidArgument` when it holds none of
    /// this type.
    fn from_word(w: u64) -> Result<Self, Error>;
}

impl Word for u64 {
    fn to_word(self) -> u64 {
        self
    }
    fn from_word(w: u64) -> Result<u64, Error> {
        Ok(w)
    }
}

macro_rules! narrow_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            fn to_word(self) -> u64 {
                self as u64
            }
            fn from_word(w: u64) -> Result<$t, Error> {
                <$t>::try_from(w).map_err(|_| Error::InvalidArgument)
            }
        }
    )*};
}
narrow_word!(u8, u16, u32);

/// A signed value (an errno a peer reports): any register is one.
impl Word for i64 {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(w: u64) -> Result<i64, Error> {
        Ok(w as i64)
    }
}

/// Six bytes (a MAC address) in one register, little-endian; a register with
/// bits past the sixth byte holds none.
impl Word for [u8; 6] {
    fn to_word(self) -> u64 {
        let mut b = [0u8; 8];
        b[..6].copy_from_slice(&self);
        u64::from_le_bytes(b)
    }
    fn from_word(w: u64) -> Result<[u8; 6], Error> {
        if w >> 48 != 0 {
            return Err(Error::InvalidArgument);
        }
        let b = w.to_le_bytes();
        Ok([b[0], b[1], b[2], b[3], b[4], b[5]])
    }
}

impl Word for bool {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(w: u64) -> Result<bool, Error> {
        match w {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::InvalidArgument),
        }
    }
}

impl Word for CapIdx {
    fn to_word(self) -> u64 {
        self.0 as u64
    }
    fn from_word(w: u64) -> Result<CapIdx, Error> {
        u32::from_word(w).map(CapIdx)
    }
}

/// A slot that may be left empty: 0 is `None` (slot 0 never holds a
/// capability).
impl Word for Option<CapIdx> {
    fn to_word(self) -> u64 {
        self.map_or(0, |c| c.0 as u64)
    }
    fn from_word(w: u64) -> Result<Option<CapIdx>, Error> {
        Ok(Some(CapIdx::from_word(w)?).filter(|c| c.0 != 0))
    }
}

impl Word for Rights {
    fn to_word(self) -> u64 {
        self.bits() as u64
    }
    fn from_word(w: u64) -> Result<Rights, Error> {
        u8::from_word(w).ok().and_then(Rights::from_bits).ok_or(Error::InvalidArgument)
    }
}

impl Word for crate::proto::task::MapAccess {
    fn to_word(self) -> u64 {
        self.bits()
    }
    fn from_word(w: u64) -> Result<Self, Error> {
        Self::from_bits(w).ok_or(Error::InvalidArgument)
    }
}

/// A request or reply declared with [`requests!`] or [`reply!`], for code
/// that sends or receives any of them.
pub trait Message: Sized {
    /// Writes the message into `mr`; returns its length in words.
    fn encode(&self, mr: &mut [u64]) -> Result<usize, Error>;
    /// The message `words` (exactly the words sent) make.
    fn decode(words: &[u64]) -> Result<Self, Error>;
}

/// A byte string of at most `N` bytes at the end of a message: its length in
/// one register, then the bytes packed eight to a register, little-endian.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bytes<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Bytes<N> {
    /// `bytes`, or `InvalidArgument` when they are more than `N`.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > N {
            return Err(Error::InvalidArgument);
        }
        let mut buf = [0u8; N];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(Bytes { buf, len: bytes.len() })
    }

    /// The first `N` bytes of `s`, cut back to a character boundary.
    pub fn truncated(s: &str) -> Self {
        let mut n = s.len().min(N);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let mut buf = [0u8; N];
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        Bytes { buf, len: n }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes as text, or `None` when they are not UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> core::fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.as_bytes())
    }
}

/// Packs `bytes` into `out` eight to a word; returns the words used.
pub fn pack(bytes: &[u8], out: &mut [u64]) -> usize {
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        out[i] = u64::from_le_bytes(w);
    }
    bytes.len().div_ceil(8)
}

/// Unpacks `out.len()` bytes from `words` (which must hold them).
pub fn unpack(words: &[u64], out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        *b = (words[i / 8] >> ((i % 8) * 8)) as u8;
    }
}

/// A field of a message: one register for a [`Word`], or a byte string
/// ([`Bytes`]: its length, then its bytes), which may then stand anywhere in
/// a message, not only at its end (the fields after it follow its last word).
pub trait Field: Sized + Copy {
    fn write(self, w: &mut Writer<'_>);
    fn read(r: &mut Reader<'_>) -> Result<Self, Error>;
}

impl<T: Word> Field for T {
    fn write(self, w: &mut Writer<'_>) {
        w.word(self.to_word());
    }
    fn read(r: &mut Reader<'_>) -> Result<T, Error> {
        T::from_word(r.word()?)
    }
}

impl<const N: usize> Field for Bytes<N> {
    fn write(self, w: &mut Writer<'_>) {
        w.bytes(&self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.bytes::<N>()
    }
}

/// A list of at most `N` values of a [`Word`] type, as a field: its length in
/// one register, then one register per value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct List<T: Word + Default, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Word + Default, const N: usize> List<T, N> {
    /// `items`, or `InvalidArgument` when they are more than `N`.
    pub fn new(items: &[T]) -> Result<Self, Error> {
        if items.len() > N {
            return Err(Error::InvalidArgument);
        }
        let mut buf = [T::default(); N];
        buf[..items.len()].copy_from_slice(items);
        Ok(List { items: buf, len: items.len() })
    }

    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Word + Default, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        List { items: [T::default(); N], len: 0 }
    }
}

impl<T: Word + Default + core::fmt::Debug, const N: usize> core::fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: Word + Default, const N: usize> Field for List<T, N> {
    fn write(self, w: &mut Writer<'_>) {
        w.word(self.len as u64);
        for &v in self.as_slice() {
            w.word(v.to_word());
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let len = usize::try_from(r.word()?).map_err(|_| Error::InvalidArgument)?;
        if len > N {
            return Err(Error::InvalidArgument);
        }
        let mut list = List::default();
        for slot in &mut list.items[..len] {
            *slot = T::from_word(r.word()?)?;
        }
        list.len = len;
        Ok(list)
    }
}

/// Builds a message in the registers; a message that does not fit is
/// `InvalidArgument` (none of the declared ones can be that long).
pub struct Writer<'a> {
    out: &'a mut [u64],
    at: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut [u64]) -> Self {
        Writer { out, at: 0, overflow: false }
    }

    pub fn word(&mut self, w: u64) {
        match self.out.get_mut(self.at) {
            Some(slot) => *slot = w,
            None => self.overflow = true,
        }
        self.at += 1;
    }

    pub fn field<T: Field>(&mut self, v: T) {
        v.write(self);
    }

    pub fn bytes<const N: usize>(&mut self, b: &Bytes<N>) {
        self.word(b.len as u64);
        let n = b.len.div_ceil(8);
        match self.out.get_mut(self.at..self.at + n) {
            Some(dst) => {
                pack(b.as_bytes(), dst);
            }
            None => self.overflow = true,
        }
        self.at += n;
    }

    /// The number of words written.
    pub fn finish(self) -> Result<usize, Error> {
        if self.overflow { Err(Error::InvalidArgument) } else { Ok(self.at) }
    }
}

/// Takes a message apart, checking each field as it goes.
pub struct Reader<'a> {
    words: &'a [u64],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(words: &'a [u64]) -> Self {
        Reader { words, at: 0 }
    }

    pub fn word(&mut self) -> Result<u64, Error> {
        let w = *self.words.get(self.at).ok_or(Error::InvalidArgument)?;
        self.at += 1;
        Ok(w)
    }

    pub fn field<T: Field>(&mut self) -> Result<T, Error> {
        T::read(self)
    }

    pub fn bytes<const N: usize>(&mut self) -> Result<Bytes<N>, Error> {
        let len = usize::try_from(self.word()?).map_err(|_| Error::InvalidArgument)?;
        if len > N {
            return Err(Error::InvalidArgument);
        }
        let n = len.div_ceil(8);
        let src = self.words.get(self.at..self.at + n).ok_or(Error::InvalidArgument)?;
        // One encoding per message: the last word's unused bytes are zero.
        if len % 8 != 0 && src[n - 1] >> ((len % 8) * 8) != 0 {
            return Err(Error::InvalidArgument);
        }
        let mut buf = [0u8; N];
        unpack(src, &mut buf[..len]);
        self.at += n;
        Ok(Bytes { buf, len })
    }

    /// Every word was used: a longer message is malformed.
    pub fn finish(self) -> Result<(), Error> {
        if self.at == self.words.len() { Ok(()) } else { Err(Error::InvalidArgument) }
    }
}

/// Declares the operations of one kernel object: each variant with its
/// operation number (the first register) and its typed fields, the last of
/// which may be a byte string (`bytes NAME[N]`). Generates the enum,
/// `encode` (into the message registers, returning the word count) and
/// `decode` (from the words the tag says were sent). An unknown operation is
/// `BadOpcode`; a malformed message `InvalidArgument`.
///
/// ```
/// l4_sys::requests! {
///     /// Frobbing.
///     pub enum Frob {
///         /// Frob once.
///         Once(7) { times: u8 },
///         Say(8) { loud: bool } bytes text[16],
///         Stop(9),
///     }
/// }
/// let mut mr = [0u64; 8];
/// let n = Frob::Once { times: 3 }.encode(&mut mr).unwrap();
/// assert_eq!(&mr[..n], &[7, 3]);
/// assert_eq!(Frob::decode(&mr[..n]), Ok(Frob::Once { times: 3 }));
/// assert_eq!(Frob::decode(&[7, 300]), Err(l4_sys::Error::InvalidArgument));
/// assert_eq!(Frob::decode(&[1]), Err(l4_sys::Error::BadOpcode));
/// ```
#[macro_export]
macro_rules! requests {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $crate::__operations! { (u64) $(#[$meta])* $vis enum $name { $($body)* } }

        impl $name {
            /// Every operation number, in declaration order.
            pub const OPS: &'static [u64] = $name::NUMBERS;

            /// The operation number (the first register).
            pub fn op(&self) -> u64 {
                self.number()
            }

            /// Writes the message into `mr`; returns its length in words.
            pub fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                let mut w = $crate::message::Writer::new(mr);
                w.word(self.op());
                self.write_fields(&mut w);
                w.finish()
            }

            /// The request `words` (exactly the words sent) make.
            pub fn decode(words: &[u64]) -> Result<Self, $crate::Error> {
                let mut r = $crate::message::Reader::new(words);
                let op = r.word().map_err(|_| $crate::Error::BadOpcode)?;
                let v = $name::read_fields(op, &mut r)?;
                r.finish()?;
                Ok(v)
            }
        }

        impl $crate::message::Message for $name {
            fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                $name::encode(self, mr)
            }
            fn decode(words: &[u64]) -> Result<Self, $crate::Error> {
                $name::decode(words)
            }
        }
    };
}

/// A request of a server's protocol whose operation is the message tag's
/// label, declared with [`calls!`].
pub trait Call: Sized {
    /// The tag label that names the operation.
    fn label(&self) -> i64;
    /// Writes the request's fields into `mr`; returns its length in words.
    fn encode(&self, mr: &mut [u64]) -> Result<usize, Error>;
    /// The request a message with `label` and exactly `words` makes:
    /// `BadOpcode` for a label the protocol does not have, `InvalidArgument`
    /// for words that do not fit the operation.
    fn decode(label: i64, words: &[u64]) -> Result<Self, Error>;
    /// Capability items the request carries (its declaration's `items N`).
    fn items(&self) -> usize;

    /// The request a whole message makes: its tag (label, word and item
    /// counts) and its words. A request that comes with another number of
    /// capability items than its declaration gives (none, unless it says
    /// `items N`) is `InvalidArgument`, as one with a word too many is.
    fn decode_message(tag: crate::MsgTag, words: &[u64]) -> Result<Self, Error> {
        if words.len() != tag.words() {
            return Err(Error::InvalidArgument);
        }
        let request = Self::decode(tag.label(), words)?;
        if tag.items() != request.items() {
            return Err(Error::InvalidArgument);
        }
        Ok(request)
    }
}

/// Declares the requests of a server's protocol, each named by its tag label
/// (the way IPC to a gate names the operation), with typed fields in the
/// registers: as [`requests!`], but the operation is the label, not a first
/// word. The enum gets `label`, `encode`, `decode(label, words)` and
/// [`Call`]; decoding checks the label, the exact word count and every
/// field's type.
///
/// ```
/// l4_sys::calls! {
///     pub enum Cfg {
///         Read (0x10) { offset: u8, len: u8 },
///         Reset (0x11) {},
///     }
/// }
/// let mut mr = [0u64; 4];
/// let n = Cfg::Read { offset: 4, len: 2 }.encode(&mut mr).unwrap();
/// assert_eq!(&mr[..n], &[4, 2]);
/// assert_eq!(Cfg::decode(0x10, &[4, 2]), Ok(Cfg::Read { offset: 4, len: 2 }));
/// assert_eq!(Cfg::decode(0x10, &[4]), Err(l4_sys::Error::InvalidArgument));
/// assert_eq!(Cfg::decode(0x10, &[256, 2]), Err(l4_sys::Error::InvalidArgument));
/// assert_eq!(Cfg::decode(0x12, &[]), Err(l4_sys::Error::BadOpcode));
/// ```
#[macro_export]
macro_rules! calls {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $crate::__operations! { (i64) $(#[$meta])* $vis enum $name { $($body)* } }

        impl $name {
            /// Every label, in declaration order.
            pub const LABELS: &'static [i64] = $name::NUMBERS;

            /// The tag label of this request.
            pub fn label(&self) -> i64 {
                self.number()
            }

            /// Writes the request's fields into `mr`; returns its length in words.
            pub fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                let mut w = $crate::message::Writer::new(mr);
                self.write_fields(&mut w);
                w.finish()
            }

            /// The request a message with `label` and exactly `words` makes.
            pub fn decode(label: i64, words: &[u64]) -> Result<Self, $crate::Error> {
                let mut r = $crate::message::Reader::new(words);
                let v = $name::read_fields(label, &mut r)?;
                r.finish()?;
                Ok(v)
            }
        }

        impl $crate::message::Call for $name {
            fn label(&self) -> i64 {
                $name::label(self)
            }
            fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                $name::encode(self, mr)
            }
            fn decode(label: i64, words: &[u64]) -> Result<Self, $crate::Error> {
                $name::decode(label, words)
            }
            fn items(&self) -> usize {
                self.item_count()
            }
        }
    };
}

/// The part [`requests!`] and [`calls!`] share: the enum, each variant's
/// number, and its fields' encoding and decoding.
#[doc(hidden)]
#[macro_export]
macro_rules! __operations {
    (
        ($numty:ty)
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident ($num:expr)
                    $(items $items:literal)?
                    $({ $($field:ident : $fty:ty),* $(,)? })?
                    $(bytes $tail:ident [$n:expr])?,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant { $($($field: $fty,)*)? $($tail: $crate::message::Bytes<{ $n }>,)? },
            )+
        }

        impl $name {
            /// Every operation's number, in declaration order.
            const NUMBERS: &'static [$numty] = &[$(($num) as $numty),+];

            fn number(&self) -> $numty {
                match self {
                    $($name::$variant { .. } => ($num) as $numty,)+
                }
            }

            /// Capability items the operation carries (`items N` in the
            /// declaration; none unless it says so).
            #[allow(dead_code)]
            fn item_count(&self) -> usize {
                match self {
                    $($name::$variant { .. } => 0 $(+ $items)?,)+
                }
            }

            #[allow(unused_variables)]
            fn write_fields(&self, w: &mut $crate::message::Writer<'_>) {
                match *self {
                    $(
                        $name::$variant { $($($field,)*)? $($tail,)? } => {
                            $($(w.field($field);)*)?
                            $(w.bytes(&$tail);)?
                        }
                    )+
                }
            }

            /// The variant numbered `number`, its fields read from `r`.
            #[allow(unused_variables)]
            fn read_fields(number: $numty, r: &mut $crate::message::Reader<'_>) -> Result<Self, $crate::Error> {
                $(
                    if number == ($num) as $numty {
                        return Ok($name::$variant {
                            $($($field: r.field::<$fty>()?,)*)?
                            $($tail: r.bytes::<{ $n }>()?,)?
                        });
                    }
                )+
                Err($crate::Error::BadOpcode)
            }
        }
    };
}

/// Declares a reply of several words as a struct of typed fields, with
/// `encode` and `decode` as [`requests!`] makes them (no operation word);
/// a byte string may follow the braces.
#[macro_export]
macro_rules! reply {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $fty:ty,)*
        } $(bytes $tail:ident [$n:expr])?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis struct $name {
            $($(#[$fmeta])* pub $field: $fty,)*
            $(pub $tail: $crate::message::Bytes<{ $n }>,)?
        }

        impl $name {
            pub fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                let mut w = $crate::message::Writer::new(mr);
                w.field(*self);
                w.finish()
            }

            /// The reply exactly `words` make.
            pub fn decode(words: &[u64]) -> Result<Self, $crate::Error> {
                let mut r = $crate::message::Reader::new(words);
                let v = r.field::<$name>()?;
                r.finish()?;
                Ok(v)
            }
        }

        impl $crate::message::Message for $name {
            fn encode(&self, mr: &mut [u64]) -> Result<usize, $crate::Error> {
                $name::encode(self, mr)
            }
            fn decode(words: &[u64]) -> Result<Self, $crate::Error> {
                $name::decode(words)
            }
        }

        /// A reply's fields may stand inside a longer message (a list of
        /// records one after the other).
        impl $crate::message::Field for $name {
            fn write(self, w: &mut $crate::message::Writer<'_>) {
                $(w.field(self.$field);)*
                $(w.bytes(&self.$tail);)?
            }
            fn read(r: &mut $crate::message::Reader<'_>) -> Result<Self, $crate::Error> {
                Ok($name {
                    $($field: r.field::<$fty>()?,)*
                    $($tail: r.bytes::<{ $n }>()?,)?
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::requests! {
        enum Sample {
            Plain(3) { a: u64, slot: CapIdx, maybe: Option<CapIdx>, flag: bool, rights: Rights },
            Text(-11i64) { code: u64 } bytes text[20],
            Nothing(4),
        }
    }

    crate::reply! {
        struct Answer {
            x: u64,
            small: u8,
        } bytes name[8]
    }

    crate::reply! {
        struct Listing {
            mac: [u8; 6],
            err: i64,
            macs: List<[u8; 6], 3>,
            tail: u64,
        }
    }

    #[test]
    fn lists_and_six_byte_words_check() {
        let v = Listing {
            mac: [1, 2, 3, 4, 5, 6],
            err: -16,
            macs: List::new(&[[0xff; 6], [1, 0, 0x5e, 0, 0, 1]]).unwrap(),
            tail: 9,
        };
        let mut mr = [0u64; 16];
        let n = v.encode(&mut mr).unwrap();
        assert_eq!(n, 6);
        assert_eq!(Listing::decode(&mr[..n]), Ok(v));
        assert_eq!(v.macs.as_slice().len(), 2);
        // A MAC word with bits past six bytes, a list longer than its bound, or
        // a list whose length runs past the message: all malformed.
        let mut bad = mr;
        bad[0] |= 1 << 48;
        assert_eq!(Listing::decode(&bad[..n]), Err(Error::InvalidArgument));
        let mut long = mr;
        long[2] = 4;
        assert_eq!(Listing::decode(&long[..n]), Err(Error::InvalidArgument));
        long[2] = 3;
        assert_eq!(Listing::decode(&long[..n]), Err(Error::InvalidArgument));
        assert!(List::<u64, 2>::new(&[1, 2, 3]).is_err());
    }

    fn round_trip(v: Sample) {
        let mut mr = [0u64; 64];
        let n = v.encode(&mut mr).unwrap();
        assert_eq!(Sample::decode(&mr[..n]), Ok(v));
        // One word short or one too many is malformed, never a default.
        if n > 1 {
            assert_eq!(Sample::decode(&mr[..n - 1]), Err(Error::InvalidArgument));
        }
        assert_eq!(Sample::decode(&mr[..n + 1]), Err(Error::InvalidArgument));
    }

    #[test]
    fn every_shape_survives_the_registers() {
        round_trip(Sample::Plain { a: u64::MAX, slot: CapIdx(7), maybe: None, flag: true, rights: Rights::READ });
        round_trip(Sample::Plain {
            a: 0,
            slot: CapIdx(u32::MAX),
            maybe: Some(CapIdx(9)),
            flag: false,
            rights: Rights::ALL,
        });
        round_trip(Sample::Text { code: 5, text: Bytes::new(b"").unwrap() });
        round_trip(Sample::Text { code: 5, text: Bytes::new(b"twenty bytes exactly").unwrap() });
        round_trip(Sample::Nothing {});
        let mut mr = [0u64; 4];
        let n = Sample::Nothing {}.encode(&mut mr).unwrap();
        assert_eq!(&mr[..n], &[4]);
        assert_eq!(Sample::Text { code: 1, text: Bytes::new(b"ab").unwrap() }.op(), -11i64 as u64);
        assert_eq!(Sample::OPS, &[3, -11i64 as u64, 4]);
    }

    #[test]
    fn fields_are_checked_once_on_the_way_in() {
        // A slot beyond a capability index, a flag of 2, undefined rights bits.
        assert_eq!(Sample::decode(&[3, 0, 1 << 32, 0, 0, 4]), Err(Error::InvalidArgument));
        assert_eq!(Sample::decode(&[3, 0, 1, 0, 2, 4]), Err(Error::InvalidArgument));
        assert_eq!(Sample::decode(&[3, 0, 1, 0, 1, 0x80]), Err(Error::InvalidArgument));
        assert_eq!(
            Sample::decode(&[3, 0, 1, 0, 1, 4]),
            Ok(Sample::Plain { a: 0, slot: CapIdx(1), maybe: None, flag: true, rights: Rights::READ })
        );
        // Unknown and missing operations.
        assert_eq!(Sample::decode(&[5]), Err(Error::BadOpcode));
        assert_eq!(Sample::decode(&[]), Err(Error::BadOpcode));
    }

    #[test]
    fn byte_strings_fit_their_bound_and_the_words_sent() {
        let code = -11i64 as u64;
        // Longer than the bound, longer than the words sent, a huge length.
        assert_eq!(Sample::decode(&[code, 0, 21, 0, 0, 0]), Err(Error::InvalidArgument));
        assert_eq!(Sample::decode(&[code, 0, 9, u64::MAX]), Err(Error::InvalidArgument));
        assert_eq!(Sample::decode(&[code, 0, u64::MAX]), Err(Error::InvalidArgument));
        assert_eq!(
            Sample::decode(&[code, 0, 3, u64::from_le_bytes(*b"abcdefgh")]),
            Err(Error::InvalidArgument),
            "padding"
        );
        let v = Sample::decode(&[code, 0, 3, u64::from_le_bytes(*b"abc\0\0\0\0\0")]).unwrap();
        let Sample::Text { text, .. } = v else { panic!("{v:?}") };
        assert_eq!(text.as_str(), Some("abc"));
        assert!(Bytes::<2>::new(b"abc").is_err());
        assert_eq!(Bytes::<4>::truncated("aé€").as_bytes(), "aé".as_bytes(), "cut at a character boundary");
    }

    #[test]
    fn messages_that_do_not_fit_are_refused_when_written() {
        let mut mr = [0u64; 3];
        let v = Sample::Text { code: 1, text: Bytes::new(b"0123456789").unwrap() };
        assert_eq!(v.encode(&mut mr), Err(Error::InvalidArgument));
    }

    #[test]
    fn replies_are_structs_with_the_same_checks() {
        let a = Answer { x: 9, small: 200, name: Bytes::new(b"netd").unwrap() };
        let mut mr = [0u64; 8];
        let n = a.encode(&mut mr).unwrap();
        assert_eq!(n, 4);
        assert_eq!(Answer::decode(&mr[..n]), Ok(a));
        assert_eq!(Answer::decode(&[9, 256, 0]), Err(Error::InvalidArgument));
        assert_eq!(Answer::decode(&[9, 1]), Err(Error::InvalidArgument));
    }

    #[test]
    fn no_word_sequence_panics_the_decoder() {
        // A small deterministic generator: every short message over a set of
        // interesting words decodes to a value or an error, and what decodes
        // encodes back to the same words.
        let interesting = [0u64, 1, 2, 3, 4, 7, 8, 20, 21, u32::MAX as u64, 1 << 32, -11i64 as u64, u64::MAX];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 8) as usize;
            let mut w = [0u64; 8];
            for (i, x) in w[..len].iter_mut().enumerate() {
                *x = interesting[((seed >> (8 + 4 * i)) % interesting.len() as u64) as usize];
            }
            if let Ok(v) = Sample::decode(&w[..len]) {
                let mut back = [0u64; 8];
                let n = v.encode(&mut back).unwrap();
                assert_eq!(&back[..n], &w[..len], "{v:?}");
            }
        }
    }
}
