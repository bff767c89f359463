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
//! [resources]   # what the io server may give the driver of its device
//! ports = true
//! mmio = true
//! irq = true
//! dma = true
//! ```
//!
//! The host uses it to fetch, check and compile the sources; the io server reads
//! it (from the boot archive) to match devices and to hand out only the kinds
//! of resources it lists.

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
    pub resources: Resources,
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
}

impl Default for Resources {
    fn default() -> Self {
        Resources { ports: true, mmio: true, irq: true, dma: true }
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
            if f.sha256.len() != 64 || !f.sha256.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
                return Err(format!("the sha256 of `{}` must be 64 lower-case hex digits", f.path));
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
}
