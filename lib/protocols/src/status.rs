//! One convention for protocol errors. A reply's status word (`mr[0]`) is a
//! value `>= 0` or a negative error code, and every interface declares its
//! errors once, as an enum made by [`errors!`]: the variants, their wire
//! codes and their text. Both sides convert through [`encode`] and
//! [`decode`], so a client gets the server's reason as a typed value and a
//! code the interface does not define can never pass for another one.

use l4_sys::message::Message;

/// An interface's error enum (made by [`errors!`]).
pub trait ProtocolError: Copy + Eq + core::fmt::Debug + 'static {
    /// What a negative code the interface does not define decodes to (a
    /// broken or newer peer).
    const UNDEFINED: Self;
    /// Every variant, for tests and documentation.
    const ALL: &'static [Self];
    /// The wire code, always negative.
    fn code(self) -> i64;
    fn from_code(code: i64) -> Option<Self>;
    fn as_str(self) -> &'static str;
}

/// The status word of a result: the value (at most `i64::MAX`), or the
/// error's negative code.
pub fn encode<E: ProtocolError>(r: Result<u64, E>) -> u64 {
    match r {
        Ok(v) => v & i64::MAX as u64,
        Err(e) => e.code() as u64,
    }
}

/// The result a status word stands for.
pub fn decode<E: ProtocolError>(w: u64) -> Result<u64, E> {
    match w as i64 {
        c if c < 0 => Err(E::from_code(c).unwrap_or(E::UNDEFINED)),
        _ => Ok(w),
    }
}

/// Declares an interface's error enum: each variant with its negative wire
/// code and the text a person reads, and the variant an undefined code
/// decodes to. Generates the enum, [`ProtocolError`] and `Display`.
///
/// ```
/// protocols::errors! {
///     /// Why a frob failed.
///     pub enum FrobError (undefined = Invalid) {
///         Invalid = -22 => "invalid request",
///         Busy = -16 => "the frobber is busy",
///     }
/// }
/// assert_eq!(protocols::status::decode::<FrobError>(protocols::status::encode(Err(FrobError::Busy))), Err(FrobError::Busy));
/// ```
/// What an interface answers for a request its generated decoder refused
/// (`l4_sys::calls!`): `unknown` for a label the interface does not have,
/// `malformed` for the wrong words or a field out of range.
pub fn refusal<E>(e: l4_sys::Error, unknown: E, malformed: E) -> E {
    match e {
        l4_sys::Error::BadOpcode => unknown,
        _ => malformed,
    }
}

/// Why a reply of several words was not taken: the server refused (its typed
/// error), or the reply does not have the shape its declaration gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError<E> {
    Refused(E),
    Malformed,
}

/// A reply of several words, declared with `l4_sys::reply!`: the status word
/// 0, then the reply's fields. A refusal is its status word alone
/// ([`encode`]). Returns the words written.
pub fn encode_reply<R: Message>(reply: &R, mr: &mut [u64]) -> Result<usize, l4_sys::Error> {
    let (status, fields) = mr.split_first_mut().ok_or(l4_sys::Error::InvalidArgument)?;
    *status = 0;
    Ok(1 + reply.encode(fields)?)
}

/// The reply `words` (exactly the words received) make, or the server's
/// refusal: a negative status word is the interface's error; status 0 must
/// be followed by exactly the declared fields.
pub fn decode_reply<R: Message, E: ProtocolError>(words: &[u64]) -> Result<R, ReplyError<E>> {
    let (&status, fields) = words.split_first().ok_or(ReplyError::Malformed)?;
    match decode::<E>(status) {
        Err(e) => Err(ReplyError::Refused(e)),
        Ok(0) => R::decode(fields).map_err(|_| ReplyError::Malformed),
        Ok(_) => Err(ReplyError::Malformed),
    }
}

/// A step of a xorshift generator, for the decoders' garbage tests.
#[cfg(test)]
pub(crate) fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[macro_export]
macro_rules! errors {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident (undefined = $undefined:ident) {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $crate::status::ProtocolError for $name {
            const UNDEFINED: Self = $name::$undefined;
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn code(self) -> i64 {
                const { $(assert!($code < 0, "wire codes are negative");)+ }
                match self {
                    $($name::$variant => $code,)+
                }
            }
            fn from_code(code: i64) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str($crate::status::ProtocolError::as_str(*self))
            }
        }
    };
}

/// For the tests of each interface (it asserts): codes are distinct and
/// negative, every variant survives the wire, an undefined code decodes to
/// the declared variant, and values pass unchanged.
pub fn check_round_trip<E: ProtocolError>() {
    for (i, &e) in E::ALL.iter().enumerate() {
        assert!(e.code() < 0, "{e:?}");
        assert_eq!(decode::<E>(encode(Err(e))), Err(e));
        assert!(E::ALL[i + 1..].iter().all(|&o| o.code() != e.code()), "{e:?}'s code is taken twice");
        assert!(!e.as_str().is_empty());
    }
    let undefined = (i64::MIN..0).rev().find(|&c| E::from_code(c).is_none()).expect("a free code");
    assert_eq!(decode::<E>(undefined as u64), Err(E::UNDEFINED));
    assert_eq!(decode::<E>(encode::<E>(Ok(42))), Ok(42));
    assert_eq!(encode::<E>(Ok(u64::MAX)), i64::MAX as u64, "a value never reads as an error");
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::errors! {
        enum Sample (undefined = Invalid) {
            Denied = -1 => "denied",
            Invalid = -22 => "invalid",
        }
    }

    l4_sys::reply! {
        struct Pair {
            a: u64,
            b: bool,
        }
    }

    #[test]
    fn replies_are_a_status_then_their_fields() {
        let mut mr = [0u64; 8];
        let n = encode_reply(&Pair { a: 7, b: true }, &mut mr).unwrap();
        assert_eq!(&mr[..n], &[0, 7, 1]);
        assert_eq!(decode_reply::<Pair, Sample>(&mr[..n]), Ok(Pair { a: 7, b: true }));
        assert_eq!(
            decode_reply::<Pair, Sample>(&[encode::<Sample>(Err(Sample::Denied))]),
            Err(ReplyError::Refused(Sample::Denied))
        );
        for bad in [&[][..], &[0, 7][..], &[0, 7, 1, 0][..], &[0, 7, 2][..], &[5, 7, 1][..]] {
            assert_eq!(decode_reply::<Pair, Sample>(bad), Err(ReplyError::Malformed), "{bad:?}");
        }
        assert!(encode_reply(&Pair { a: 7, b: true }, &mut mr[..2]).is_err());
    }

    #[test]
    fn errors_cross_the_wire_typed() {
        check_round_trip::<Sample>();
        assert_eq!(decode::<Sample>(-1i64 as u64), Err(Sample::Denied));
        assert_eq!(decode::<Sample>(-7i64 as u64), Err(Sample::Invalid), "an undefined code");
        assert_eq!(decode::<Sample>(0), Ok(0));
        assert_eq!(Sample::Denied.as_str(), "denied");
    }
}
