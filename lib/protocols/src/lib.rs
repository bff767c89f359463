//! Message formats between Resurgo's servers and their clients.
//!
//! Each protocol is a set of message labels (the tag's label of a call) with the
//! message words in and out, and the capabilities that travel as items. Servers
//! identify a client by the label of the gate it called through: init gives
//! every client of an endpoint a gate of its own (see `lib/boot`).
#![no_std]

/// The io server's `pci` endpoint: a driver task's access to its one device.
pub mod pci {
    /// Claim the device the manifest assigns to the caller.
    /// out words: [`DeviceInfo`] as [`INFO_WORDS`] words. out items: one I/O-port
    /// capability per I/O BAR, one device-memory capability per memory BAR (in
    /// BAR order), then the IRQ object of its line. The caller sets one receive
    /// slot per item in its buffer registers. Calling again (a restarted driver)
    /// returns the same objects.
    pub const OPEN: i64 = 0x5001;
    /// Read configuration space. in: `[offset, len]` (len 1, 2, 4). out: `[value]`.
    pub const CONFIG_READ: i64 = 0x5002;
    /// Write configuration space. in: `[offset, len, value]`. Refused (error reply)
    /// for BARs, the expansion ROM and header type, and for command-register bits
    /// other than I/O, memory, bus master and INTx disable.
    pub const CONFIG_WRITE: i64 = 0x5003;

    /// A negative `mr[0]` in a reply is an error: no device for this client,
    /// a refused write, a bad offset.
    pub const ERR_NO_DEVICE: i64 = -19;
    pub const ERR_DENIED: i64 = -1;
    pub const ERR_INVALID: i64 = -22;

    pub const BARS: usize = 6;
    pub const INFO_WORDS: usize = 5 + 2 * BARS;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Bar {
        pub base: u64,
        pub size: u64,
        pub is_io: bool,
    }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct DeviceInfo {
        pub vendor: u16,
        pub device: u16,
        pub subsystem_vendor: u16,
        pub subsystem_device: u16,
        pub class_code: u32,
        pub revision: u8,
        pub bus: u8,
        pub slot: u8,
        pub func: u8,
        pub irq_line: u8,
        pub bars: [Option<Bar>; BARS],
    }

    impl DeviceInfo {
        pub fn to_words(&self) -> [u64; INFO_WORDS] {
            let mut w = [0u64; INFO_WORDS];
            w[0] = self.vendor as u64 | (self.device as u64) << 16;
            w[1] = self.subsystem_vendor as u64 | (self.subsystem_device as u64) << 16;
            w[2] = (self.class_code as u64) << 8 | self.revision as u64;
            w[3] = (self.bus as u64) << 16 | (self.slot as u64) << 8 | self.func as u64;
            w[4] = self.irq_line as u64;
            for (i, b) in self.bars.iter().enumerate() {
                if let Some(b) = b {
                    w[5 + 2 * i] = b.base;
                    // Size in the upper bits, flags in the low two: present, I/O.
                    w[6 + 2 * i] = b.size << 2 | 1 | (b.is_io as u64) << 1;
                }
            }
            w
        }

        pub fn from_words(w: &[u64; INFO_WORDS]) -> DeviceInfo {
            let mut bars = [None; BARS];
            for (i, b) in bars.iter_mut().enumerate() {
                let meta = w[6 + 2 * i];
                if meta & 1 != 0 {
                    *b = Some(Bar { base: w[5 + 2 * i], size: meta >> 2, is_io: meta & 2 != 0 });
                }
            }
            DeviceInfo {
                vendor: w[0] as u16,
                device: (w[0] >> 16) as u16,
                subsystem_vendor: w[1] as u16,
                subsystem_device: (w[1] >> 16) as u16,
                class_code: (w[2] >> 8) as u32,
                revision: w[2] as u8,
                bus: (w[3] >> 16) as u8,
                slot: (w[3] >> 8) as u8,
                func: w[3] as u8,
                irq_line: w[4] as u8,
                bars,
            }
        }
    }
}

/// netd's `nic` endpoint: a NIC driver task attaches its device.
pub mod nic {
    /// Attach (or re-attach after a restart). in: `[mac as 6 bytes little-endian,
    /// mtu, link up]`. out words: `[ring region bytes, slots per ring]`. out items:
    /// the ring dataspace (read/write), the IRQ object netd triggers for the driver
    /// (the driver attaches a thread to it), the IRQ object the driver triggers for
    /// netd. The rings are `netring` rings; they outlive the driver.
    pub const ATTACH: i64 = 0x4e01;
    /// Link state changed. in: `[link up]`.
    pub const LINK: i64 = 0x4e02;

    pub fn mac_to_word(mac: [u8; 6]) -> u64 {
        let mut b = [0u8; 8];
        b[..6].copy_from_slice(&mac);
        u64::from_le_bytes(b)
    }

    pub fn word_to_mac(w: u64) -> [u8; 6] {
        let b = w.to_le_bytes();
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::pci::*;

    #[test]
    fn device_info_round_trips() {
        let mut bars = [None; BARS];
        bars[0] = Some(Bar { base: 0xc000, size: 0x100, is_io: true });
        bars[1] = Some(Bar { base: 0xfebf_1000, size: 0x100, is_io: false });
        let d = DeviceInfo {
            vendor: 0x10ec,
            device: 0x8139,
            subsystem_vendor: 0x1af4,
            subsystem_device: 0x1100,
            class_code: 0x020000,
            revision: 0x20,
            bus: 0,
            slot: 3,
            func: 0,
            irq_line: 11,
            bars,
        };
        assert_eq!(DeviceInfo::from_words(&d.to_words()), d);
        assert_eq!(super::nic::word_to_mac(super::nic::mac_to_word([1, 2, 3, 4, 5, 6])), [1, 2, 3, 4, 5, 6]);
    }
}
