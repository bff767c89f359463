//! The manifest of a legacy driver: `drivers-legacy/NAME/driver.toml`.
//!
//! ```toml
//! name = "8139cp"
//! description = "RealTek RTL-8139C+ 10/100 Ethernet"
//! pci-ids = ["10ec:8139"]
//! sources = [   # compiled, in this order, exactly as the Linux tree has them
//!   { path = "drivers/net/ethernet/realtek/8139cp.c", sha256 = "..." },
//! ]
//! includes = [] # fetched and checked, not compiled (headers, lib8390.c)
//! firmware = [  # files request_firmware() finds, from the driver's folder
//!   { name = "e100/d101m_ucode.bin", file = "d101m_ucode.bin", sha256 = "..." },
//! ]
//! [resources]   # what the io server may give the driver of its device
//! ports = true
//! mmio = true
//! irq = true
//! dma = true
//! msi = true    # MSI and MSI-X, if the device has them (the default)
//! ```
//!
//! The host uses it to fetch, check and compile the sources and to put the
//! firmware files into the boot archive (as one archive of their own,
//! [`firmware_member`]); the io server reads it (from the boot archive) to
//! match devices and to hand out only the kinds of resources it lists.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DriverManifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub pci_ids: Vec<String>,
    pub sources: Vec<SourceFile>,
    #[serde(default)]
    pub includes: Vec<SourceFile>,
    #[serde(default)]
    pub firmware: Vec<FirmwareFile>,
    #[serde(default)]
    pub resources: Resources,
}

/// A firmware file the driver may load.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FirmwareFile {
    /// The name the driver asks for, as under Linux's /lib/firmware (`e100/d101m_ucode.bin`).
    pub name: String,
    /// Where the file is, relative to the driver's folder.
    pub file: String,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
}

/// The longest firmware name: it must fit a ustar member name (100 bytes).
pub const FIRMWARE_NAME_MAX: usize = 100;

/// The boot archive's member that holds a driver's firmware files, itself a
/// ustar archive with each file under its [`FirmwareFile::name`].
pub fn firmware_member(driver: &str) -> String {
    format!("firmware/{driver}.tar")
}

fn relative(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.split('/').any(|c| c == ".." || c.is_empty())
}

fn sha256_ok(sum: &str) -> bool {
    sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Path inside the Linux tree (`drivers/net/...`).
    pub path: String,
    /// Lower-case hex sha256 of the file as Debian ships it.
    pub sha256: String,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default)]
    pub ports: bool,
    #[serde(default)]
    pub mmio: bool,
    #[serde(default)]
    pub irq: bool,
    #[serde(default)]
    pub dma: bool,
    /// Whether io may switch the device to its message-signalled
    /// interrupts (MSI, MSI-X) when the driver asks; false keeps it on its
    /// INTx line (the driver's request is refused, and it falls back as on
    /// a Linux without MSI). A system manifest may say otherwise for one
    /// task (`msi` there).
    #[serde(default = "yes")]
    pub msi: bool,
}

fn yes() -> bool {
    true
}

impl Default for Resources {
    fn default() -> Self {
        Resources { ports: true, mmio: true, irq: true, dma: true, msi: true }
    }
}

/// A PCI vendor:device pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciId {
    pub vendor: u16,
    pub device: u16,
}

/// Parses `"10ec:8139"`.
pub fn parse_pci_id(s: &str) -> Option<PciId> {
    let (v, d) = s.split_once(':')?;
    if v.len() != 4 || d.len() != 4 {
        return None;
    }
    Some(PciId { vendor: u16::from_str_radix(v, 16).ok()?, device: u16::from_str_radix(d, 16).ok()? })
}

impl DriverManifest {
    /// Parses and checks a driver manifest; problems are described in words.
    pub fn parse(text: &str) -> Result<DriverManifest, String> {
        let m: DriverManifest = toml::from_str(text).map_err(|e| alloc::string::ToString::to_string(e.message()))?;
        if m.name.is_empty() || !m.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("driver name `{}` must be letters, digits, `-` or `_`", m.name));
        }
        if m.pci_ids.is_empty() {
            return Err("a driver needs at least one PCI id".into());
        }
        if let Some(bad) = m.pci_ids.iter().find(|i| parse_pci_id(i).is_none()) {
            return Err(format!("PCI id `{bad}` is not of the form vvvv:dddd (hex)"));
        }
        // No device has vendor 0000 or ffff: the first ends Linux's id
        // tables, the second is what reading an empty slot returns.
        if let Some(bad) = m.pci_ids.iter().find(|i| parse_pci_id(i).is_some_and(|id| matches!(id.vendor, 0 | 0xffff)))
        {
            return Err(format!("PCI id `{bad}` has no vendor (0000 ends Linux's id tables, ffff is an empty slot)"));
        }
        if m.sources.is_empty() {
            return Err("a driver needs at least one source file".into());
        }
        for f in m.sources.iter().chain(&m.includes) {
            if f.path.starts_with('/') || f.path.split('/').any(|c| c == "..") {
                return Err(format!("`{}` must be a relative path inside the Linux tree", f.path));
            }
            if !sha256_ok(&f.sha256) {
                return Err(format!("the sha256 of `{}` must be 64 lower-case hex digits", f.path));
            }
        }
        for (i, f) in m.firmware.iter().enumerate() {
            let plain = f.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+/".contains(&b));
            if !relative(&f.name) || !plain || f.name.len() > FIRMWARE_NAME_MAX {
                return Err(format!(
                    "firmware name `{}` must be a relative path of letters, digits and `._-+/`, at most {FIRMWARE_NAME_MAX} bytes",
                    f.name
                ));
            }
            if !relative(&f.file) {
                return Err(format!("firmware file `{}` must be a relative path inside the driver's folder", f.file));
            }
            if !sha256_ok(&f.sha256) {
                return Err(format!("the sha256 of firmware `{}` must be 64 lower-case hex digits", f.name));
            }
            if m.firmware[..i].iter().any(|g| g.name == f.name) {
                return Err(format!("firmware `{}` is listed twice", f.name));
            }
        }
        Ok(m)
    }

    pub fn ids(&self) -> impl Iterator<Item = PciId> + '_ {
        self.pci_ids.iter().filter_map(|s| parse_pci_id(s))
    }

    pub fn matches(&self, vendor: u16, device: u16) -> bool {
        self.ids().any(|i| i.vendor == vendor && i.device == device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "8139cp"
pci-ids = ["10ec:8139"]
sources = [{ path = "drivers/net/ethernet/realtek/8139cp.c", sha256 = "0000000000000000000000000000000000000000000000000000000000000abc" }]
[resources]
ports = true
irq = true
"#;

    #[test]
    fn parses_and_matches() {
        let m = DriverManifest::parse(GOOD).unwrap();
        assert!(m.matches(0x10ec, 0x8139));
        assert!(!m.matches(0x10ec, 0x8029));
        assert!(m.resources.ports && !m.resources.mmio && !m.resources.dma);
        assert!(m.resources.msi, "MSI is allowed unless the manifest says not");
        let intx = DriverManifest::parse(&format!("{GOOD}msi = false\n")).unwrap();
        assert!(!intx.resources.msi && intx.resources.irq);
    }

    #[test]
    fn refuses_bad_ids_paths_and_hashes() {
        assert!(DriverManifest::parse(&GOOD.replace("10ec:8139", "10ec-8139")).unwrap_err().contains("PCI id"));
        for none in ["0000:0000", "ffff:ffff"] {
            let e = DriverManifest::parse(&GOOD.replace("\"10ec:8139\"", &format!("\"10ec:8139\", \"{none}\"")))
                .unwrap_err();
            assert!(e.contains(none) && e.contains("no vendor"), "{e}");
        }
        assert!(DriverManifest::parse(&GOOD.replace("drivers/net", "../net")).unwrap_err().contains("relative"));
        assert!(DriverManifest::parse(&GOOD.replace("0abc", "0ABC")).unwrap_err().contains("sha256"));
    }

    fn with_firmware(entries: &str) -> Result<DriverManifest, String> {
        DriverManifest::parse(&GOOD.replace("[resources]", &format!("firmware = [{entries}]\n[resources]")))
    }

    const SUM: &str = "00000000000000000000000000000000000000000000000000000000000000ff";

    #[test]
    fn firmware_files_are_named_and_pinned() {
        let m =
            with_firmware(&format!(r#"{{ name = "e100/d101m_ucode.bin", file = "fw/d101m.bin", sha256 = "{SUM}" }}"#))
                .unwrap();
        assert_eq!(m.firmware[0].name, "e100/d101m_ucode.bin");
        assert_eq!(m.firmware[0].file, "fw/d101m.bin");
        assert!(DriverManifest::parse(GOOD).unwrap().firmware.is_empty());
        assert_eq!(firmware_member("e100"), "firmware/e100.tar");
    }

    #[test]
    fn refuses_bad_firmware_entries() {
        let entry =
            |name: &str, file: &str, sum: &str| format!(r#"{{ name = "{name}", file = "{file}", sha256 = "{sum}" }}"#);
        let long = "a".repeat(FIRMWARE_NAME_MAX + 1);
        for name in ["/lib/firmware/x.bin", "../x.bin", "a//b", "", "a b.bin", "x:y", long.as_str()] {
            let e = with_firmware(&entry(name, "x.bin", SUM)).unwrap_err();
            assert!(e.contains("firmware name"), "{name}: {e}");
        }
        for file in ["/etc/passwd", "../other/x.bin", ""] {
            let e = with_firmware(&entry("x.bin", file, SUM)).unwrap_err();
            assert!(e.contains("inside the driver's folder"), "{file}: {e}");
        }
        assert!(with_firmware(&entry("x.bin", "x.bin", "abc")).unwrap_err().contains("sha256 of firmware `x.bin`"));
        let twice = format!("{}, {}", entry("x.bin", "a", SUM), entry("x.bin", "b", SUM));
        assert!(with_firmware(&twice).unwrap_err().contains("listed twice"));
        let unknown = r#"{ name = "x.bin", file = "x.bin", sha256 = "00", size = 3 }"#;
        assert!(with_firmware(unknown).is_err());
    }
}
