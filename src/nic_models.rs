//! QEMU's network card models, as the installed QEMU says: the names from
//! `qemu-system-x86_64 -device help`, and the PCI ids each PCI model shows a
//! guest, read from QEMU itself (a paused machine with the one device,
//! asked `query-pci` over QMP) and cached per QEMU version. `resurgo up --nic`
//! takes any of them; `resurgo driver add` says which one a new driver claims.

use crate::deps;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

/// A network device model in `-device help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub name: String,
    /// The bus it plugs into (`PCI`, `ISA`, `usb-bus`...).
    pub bus: String,
    pub desc: String,
}

/// The ids a PCI model shows a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciIds {
    pub vendor: u16,
    pub device: u16,
    pub subvendor: u16,
    pub subdevice: u16,
}

impl PciIds {
    /// `vendor:device` as driver manifests write it.
    pub fn pair(&self) -> String {
        format!("{:04x}:{:04x}", self.vendor, self.device)
    }
}

/// The "Network devices:" section of `-device help`.
pub fn parse_help(help: &str) -> Vec<Model> {
    let Some(section) = help.split("Network devices:").nth(1) else { return Vec::new() };
    section
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let quoted = |key: &str| -> Option<String> {
                let rest = &line[line.find(&format!("{key} \""))? + key.len() + 2..];
                Some(rest[..rest.find('"')?].to_string())
            };
            let bus = line.split(", ").find_map(|f| f.strip_prefix("bus ")).unwrap_or_default().to_string();
            Some(Model { name: quoted("name")?, bus, desc: quoted("desc").unwrap_or_default() })
        })
        .collect()
}

fn qemu() -> Result<std::path::PathBuf> {
    deps::ensure(&[deps::QEMU])?;
    deps::QEMU.found().ok_or_else(|| anyhow!("error: QEMU is not on PATH"))
}

/// The network card models of the installed QEMU.
pub fn models() -> Result<Vec<Model>> {
    let out = Command::new(qemu()?)
        .args(["-device", "help"])
        .stdin(Stdio::null())
        .output()
        .context("cannot run `qemu-system-x86_64 -device help`")?;
    let models = parse_help(&String::from_utf8_lossy(&out.stdout));
    if models.is_empty() {
        bail!("error: `qemu-system-x86_64 -device help` lists no network devices");
    }
    Ok(models)
}

/// Fails unless `model` is a PCI network card of the installed QEMU, listing
/// the ones it has.
pub fn check(model: &str) -> Result<()> {
    let models = models()?;
    match models.iter().find(|m| m.name == model) {
        Some(m) if m.bus == "PCI" => Ok(()),
        Some(m) => bail!(
            "error: QEMU's `{model}` is a network card on the {} bus; Resurgo's io server drives PCI cards",
            m.bus
        ),
        None => {
            let pci: Vec<&str> = models.iter().filter(|m| m.bus == "PCI").map(|m| m.name.as_str()).collect();
            bail!("error: QEMU has no network card `{model}`; its PCI network cards: {}", pci.join(", "))
        }
    }
}

/// The ids in a QMP `query-pci` reply of a machine whose one extra device is a NIC.
pub fn parse_query_pci(reply: &serde_json::Value) -> Option<PciIds> {
    let buses = reply.get("return")?.as_array()?;
    buses.iter().flat_map(|b| b.get("devices").and_then(|d| d.as_array()).into_iter().flatten()).find_map(|dev| {
        // Class 0x02xx: network controller.
        let class = dev.get("class_info")?.get("class")?.as_u64()?;
        if class >> 8 != 0x02 {
            return None;
        }
        let id = dev.get("id")?;
        let get = |k: &str| id.get(k).and_then(|v| v.as_u64()).and_then(|v| u16::try_from(v).ok());
        Some(PciIds {
            vendor: get("vendor")?,
            device: get("device")?,
            subvendor: get("subsystem-vendor").unwrap_or(0),
            subdevice: get("subsystem").unwrap_or(0),
        })
    })
}

/// Asks a paused QEMU with the one device which ids it shows.
fn probe(qemu: &std::path::Path, model: &str) -> Option<PciIds> {
    let mut child = Command::new(qemu)
        .args(["-machine", "pc", "-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-qmp", "stdio"])
        .args(["-device", &format!("{model},id=probe")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let _ =
        stdin.write_all(b"{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"query-pci\"}\n{\"execute\":\"quit\"}\n");
    drop(stdin);
    let out = child.wait_with_output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| parse_query_pci(&v))
}

/// What the cache holds: QEMU's version line, then each PCI model's ids.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    qemu: String,
    models: Vec<(String, Option<PciIds>)>,
}

/// Every PCI network model of the installed QEMU with the ids it shows
/// (`None`: QEMU could not start it alone), cached per QEMU version.
pub fn pci_ids() -> Result<Vec<(String, Option<PciIds>)>> {
    let qemu = qemu()?;
    let version = Command::new(&qemu).arg("--version").output().context("cannot run `qemu-system-x86_64 --version`")?;
    let version = String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or_default().to_string();
    let cache = crate::linux::cache_root()?.join("qemu-nic-ids.json");
    if let Ok(text) = fs::read_to_string(&cache)
        && let Ok(cached) = serde_json::from_str::<Cached>(&text)
        && cached.qemu == version
    {
        return Ok(cached.models);
    }
    let models: Vec<(String, Option<PciIds>)> = models()?
        .into_iter()
        .filter(|m| m.bus == "PCI")
        .map(|m| {
            let ids = probe(&qemu, &m.name);
            (m.name, ids)
        })
        .collect();
    let cached = Cached { qemu: version, models };
    if let Some(dir) = cache.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let _ = fs::write(&cache, serde_json::to_string(&cached).unwrap_or_default());
    Ok(cached.models)
}

/// The QEMU models whose `vendor:device` is one of `ids` (a driver's table).
pub fn matching(models: &[(String, Option<PciIds>)], ids: &[String]) -> Vec<(String, PciIds)> {
    models
        .iter()
        .filter_map(|(name, id)| {
            id.filter(|id| ids.iter().any(|i| i.eq_ignore_ascii_case(&id.pair()))).map(|id| (name.clone(), id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part of QEMU 7.2's `-device help`.
    const HELP: &str = "Storage devices:\nname \"ide-cd\", bus IDE\n\nNetwork devices:\n\
name \"e1000\", bus PCI, alias \"e1000-82540em\", desc \"Intel Gigabit Ethernet\"\n\
name \"ne2k_isa\", bus ISA\n\
name \"tulip\", bus PCI\n\
name \"usb-net\", bus usb-bus\n\
\nInput devices:\nname \"i8042\", bus ISA\n";

    #[test]
    fn network_models_come_from_device_help() {
        let models = parse_help(HELP);
        let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["e1000", "ne2k_isa", "tulip", "usb-net"]);
        assert_eq!(models[0].desc, "Intel Gigabit Ethernet");
        assert_eq!(models[0].bus, "PCI");
        assert_eq!(models[3].bus, "usb-bus");
        assert!(parse_help("no such section").is_empty());
    }

    #[test]
    fn ids_come_from_the_network_controller_in_query_pci() {
        // Trimmed from QEMU 7.2's reply for `-device tulip`.
        let reply: serde_json::Value = serde_json::from_str(
            r#"{"return": [{"bus": 0, "devices": [
              {"class_info": {"class": 1536, "desc": "Host bridge"}, "id": {"device": 4663, "subsystem-vendor": 6900, "vendor": 32902, "subsystem": 4352}},
              {"class_info": {"class": 512, "desc": "Ethernet controller"}, "id": {"device": 25, "subsystem-vendor": 4156, "vendor": 4113, "subsystem": 4175}}
            ]}]}"#,
        )
        .unwrap();
        let ids = parse_query_pci(&reply).unwrap();
        assert_eq!(ids.pair(), "1011:0019");
        assert_eq!((ids.subvendor, ids.subdevice), (0x103c, 0x104f));
        let table = vec![("tulip".to_string(), Some(ids)), ("pvrdma".to_string(), None)];
        assert_eq!(matching(&table, &["1011:0019".into(), "1011:0009".into()]).len(), 1);
        assert!(matching(&table, &["10ec:8139".into()]).is_empty());
    }
}
