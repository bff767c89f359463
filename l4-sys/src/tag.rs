//! Message tags, laid out as Fiasco.OC's: `label << 16 | flags | items << 6 | words`.

/// Describes a message: its protocol label, how many untyped words and typed items
/// (capability transfers) follow in the message registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct MsgTag(pub u64);

impl MsgTag {
    /// Most message registers a message can carry (words plus two per item).
    pub const MAX_WORDS: usize = 63;

    pub const fn new(label: i64, words: usize, items: usize) -> MsgTag {
        MsgTag(((label as u64 & 0xffff_ffff_ffff) << 16) | ((items as u64 & 0x3f) << 6) | (words as u64 & 0x3f))
    }

    /// The protocol label, sign-extended: kernel protocols are negative.
    pub const fn label(self) -> i64 {
        (self.0 as i64) >> 16
    }

    pub const fn words(self) -> usize {
        (self.0 & 0x3f) as usize
    }

    pub const fn items(self) -> usize {
        ((self.0 >> 6) & 0x3f) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let t = MsgTag::new(-11, 5, 2);
        assert_eq!(t.label(), -11);
        assert_eq!(t.words(), 5);
        assert_eq!(t.items(), 2);
        let t = MsgTag::new(0x1234, 63, 0);
        assert_eq!((t.label(), t.words(), t.items()), (0x1234, 63, 0));
    }
}
