//! Legacy drivers: `drivers-legacy/NAME/driver.toml`, where their files come
//! from, and what `resurgo drivers` prints.
//!
//! A manifest lists files by their path in the Linux tree. A file that exists
//! at that path inside the driver's own folder (a user dropped it there) is
//! taken from there; every other file comes from Debian's `linux-source-6.1`
//! (see [`crate::linux`]). Either way its sha256 must be the pinned one.

use crate::linux::{self, PinnedFile};
use crate::{display_path, workspace_root};
use anyhow::{Context, Result, bail};
use manifest::driver::{DriverManifest, SourceFile};
use serde_json::json;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The folder of legacy drivers in the workspace.
pub const DRIVERS_DIR: &str = "drivers-legacy";
/// A driver's manifest in its folder.
pub const MANIFEST_FILE: &str = "driver.toml";
/// The prefix of a driver's task image: `drv-NAME`.
pub const IMAGE_PREFIX: &str = "drv-";

/// A driver manifest that parsed.
#[derive(Debug, Clone)]
pub struct Driver {
    pub name: String,
    /// `drivers-legacy/NAME`.
    pub dir: PathBuf,
    /// `drivers-legacy/NAME/driver.toml`.
    pub manifest_path: PathBuf,
    /// The manifest's text, put verbatim into the boot archive.
    pub text: String,
    pub manifest: DriverManifest,
}

/// The image name of a driver.
pub fn image_name(driver: &str) -> String {
    format!("{IMAGE_PREFIX}{driver}")
}

/// `drivers-legacy` in the workspace.
pub fn drivers_dir() -> PathBuf {
    workspace_root().join(DRIVERS_DIR)
}

impl Driver {
    /// Reads and checks `dir/driver.toml`; the folder's name must be the driver's name.
    pub fn load(dir: &Path) -> Result<Driver> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let shown = display_path(&manifest_path, &workspace_root());
        let text =
            fs::read_to_string(&manifest_path).with_context(|| format!("error: {shown}: cannot read the manifest"))?;
        let manifest = DriverManifest::parse(&text).map_err(|e| anyhow::anyhow!("error: {shown}: {e}"))?;
        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if manifest.name != folder {
            bail!("error: {shown}: the driver is named `{}` but its folder is `{folder}`", manifest.name);
        }
        Ok(Driver { name: manifest.name.clone(), dir: dir.to_path_buf(), manifest_path, text, manifest })
    }

    /// The manifest's path as shown in messages.
    pub fn shown_manifest(&self) -> String {
        display_path(&self.manifest_path, &workspace_root())
    }

    /// Every file, sources first, then includes.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.manifest.sources.iter().chain(&self.manifest.includes)
    }

    /// The copy of a file in the driver's own folder, if the user put one there.
    pub fn local_file(&self, f: &SourceFile) -> Option<PathBuf> {
        let p = self.dir.join(&f.path);
        p.is_file().then_some(p)
    }

    /// The files that come from the Linux package.
    pub fn linux_files(&self) -> Vec<PinnedFile> {
        self.files()
            .filter(|f| self.local_file(f).is_none())
            .map(|f| PinnedFile { path: f.path.clone(), sha256: f.sha256.clone(), pinned_by: self.shown_manifest() })
            .collect()
    }

    /// The image built from it: `target/image/release/drv-NAME`.
    pub fn image_path(&self) -> PathBuf {
        crate::image::target_dir().join("release").join(image_name(&self.name))
    }
}

/// Every driver in `drivers-legacy/`, by name. A manifest that does not parse is
/// an error naming it.
pub fn all() -> Result<Vec<Driver>> {
    all_in(&drivers_dir())
}

/// Every driver in a folder of driver folders, sorted by name.
pub fn all_in(dir: &Path) -> Result<Vec<Driver>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join(MANIFEST_FILE).is_file()).collect();
    dirs.sort();
    let mut drivers = Vec::new();
    let mut errors = Vec::new();
    for d in dirs {
        match Driver::load(&d) {
            Ok(driver) => drivers.push(driver),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(drivers)
}

/// The driver named `name` (`drivers-legacy/NAME/driver.toml`).
pub fn find(name: &str) -> Result<Driver> {
    let dir = drivers_dir().join(name);
    if !dir.join(MANIFEST_FILE).is_file() {
        bail!("error: no legacy driver `{name}`: {DRIVERS_DIR}/{name}/{MANIFEST_FILE} does not exist");
    }
    Driver::load(&dir)
}

/// The driver's firmware files (its manifest's `firmware`) as one ustar
/// archive, each under the name the driver asks for; `None` without any.
/// Every file is read from the driver's folder and checked against its sha256.
pub fn firmware_archive(d: &Driver) -> Result<Option<Vec<u8>>> {
    if d.manifest.firmware.is_empty() {
        return Ok(None);
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for f in &d.manifest.firmware {
        let path = d.dir.join(&f.file);
        let data = fs::read(&path).with_context(|| {
            format!(
                "{}: firmware `{}`: cannot read {}",
                d.shown_manifest(),
                f.name,
                display_path(&path, &workspace_root())
            )
        })?;
        let sum = linux::sha256_hex(&data);
        if sum != f.sha256 {
            bail!(
                "{}: firmware `{}`: {} has sha256 {sum}, the manifest pins {}",
                d.shown_manifest(),
                f.name,
                display_path(&path, &workspace_root()),
                f.sha256
            );
        }
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o444);
        header.set_path(&f.name).with_context(|| format!("firmware name `{}`", f.name))?;
        header.set_cksum();
        builder.append(&header, data.as_slice())?;
    }
    Ok(Some(builder.into_inner()?))
}

/// Where each file of some drivers is, checked against its pinned sha256.
#[derive(Debug, Clone)]
pub struct SourceSet {
    /// (driver name, path in the manifest) → the file on disk.
    pub files: BTreeMap<(String, String), PathBuf>,
    /// The Linux package version the files were taken from, if any were.
    pub linux_version: Option<String>,
}

impl SourceSet {
    pub fn get(&self, driver: &str, path: &str) -> &Path {
        &self.files[&(driver.to_string(), path.to_string())]
    }
}

/// Fetches what is missing (one pass over the Linux package for all of them)
/// and checks every file of the drivers.
pub fn fetch_sources(drivers: &[&Driver], progress: bool) -> Result<SourceSet> {
    fetch_sources_with(drivers, &[], progress)
}

/// The name under which [`fetch_sources_with`] files its `extra` files (Linux's library code).
pub const LINUX_LIB: &str = "linux-lib";

/// [`fetch_sources`], and in the same pass over the package the `extra`
/// files (filed under [`LINUX_LIB`]).
pub fn fetch_sources_with(drivers: &[&Driver], extra: &[PinnedFile], progress: bool) -> Result<SourceSet> {
    let mut files = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut pinned: Vec<PinnedFile> = extra.to_vec();
    for d in drivers {
        for f in d.files() {
            if let Some(local) = d.local_file(f) {
                let actual = linux::sha256_file(&local)?;
                if actual != f.sha256 {
                    let p =
                        PinnedFile { path: f.path.clone(), sha256: f.sha256.clone(), pinned_by: d.shown_manifest() };
                    mismatches.push(linux::mismatch_message(&p, &actual, &display_path(&local, &workspace_root())));
                }
                files.insert((d.name.clone(), f.path.clone()), local);
            }
        }
        pinned.extend(d.linux_files());
    }
    if !mismatches.is_empty() {
        bail!("{}", mismatches.join("\n"));
    }
    let mut linux_version = None;
    if !pinned.is_empty() {
        let sources = linux::ensure(&pinned, progress)?;
        for f in extra {
            files.insert((LINUX_LIB.to_string(), f.path.clone()), sources.path(&f.path));
        }
        for d in drivers {
            for f in d.linux_files() {
                files.insert((d.name.clone(), f.path.clone()), sources.path(&f.path));
            }
        }
        linux_version = Some(sources.version);
    }
    Ok(SourceSet { files, linux_version })
}

/// The last line of `resurgo drivers --json`.
pub fn list_json(drivers: &[Driver]) -> String {
    let list: Vec<serde_json::Value> = drivers
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "sources": d.manifest.sources.iter().map(|f| json!({"path": f.path, "sha256": f.sha256})).collect::<Vec<_>>(),
                "pci_ids": d.manifest.pci_ids,
                "built": d.image_path().is_file(),
            })
        })
        .collect();
    json!({ "drivers": list }).to_string()
}

/// The table `resurgo drivers` prints.
pub fn list_table(drivers: &[Driver]) -> String {
    if drivers.is_empty() {
        return format!("no legacy drivers in {DRIVERS_DIR}/\n");
    }
    let width = drivers.iter().map(|d| d.name.len()).max().unwrap_or(0).max(6);
    let mut out = format!("{:width$}  {:5}  {:>5}  {:>8}  DESCRIPTION\n", "DRIVER", "BUILT", "FILES", "PCI IDS");
    for d in drivers {
        let built = if d.image_path().is_file() { "yes" } else { "no" };
        let files = d.manifest.sources.len() + d.manifest.includes.len();
        out.push_str(&format!(
            "{:width$}  {built:5}  {files:>5}  {:>8}  {}\n",
            d.name,
            d.manifest.pci_ids.len(),
            d.manifest.description
        ));
        out.push_str(&format!("{:width$}  ids: {}\n", "", d.manifest.pci_ids.join(" ")));
    }
    out
}

/// One pinned file of a driver, before and after `resurgo driver pin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repinned {
    pub driver: String,
    pub path: String,
    /// The sha256 its manifest pins now.
    pub old: String,
    /// Its sha256 in the other version (`None`: not in it).
    pub new: Option<String>,
}

/// What `resurgo driver pin` found and did.
#[derive(Debug, Clone)]
pub struct RepinReport {
    pub from: String,
    pub to: String,
    pub files: Vec<Repinned>,
    /// The manifests and the pin file were rewritten.
    pub written: bool,
}

impl RepinReport {
    /// One line per file (`same`, `changed OLD -> NEW`, `missing`), then what was done.
    pub fn table(&self) -> String {
        let width = self.files.iter().map(|f| f.driver.len()).max().unwrap_or(0);
        let path_width = self.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
        let mut out = String::new();
        for f in &self.files {
            let what = match &f.new {
                Some(new) if *new == f.old => format!("same      {}", &f.old[..16.min(f.old.len())]),
                Some(new) => format!("changed   {} -> {}", f.old, new),
                None => format!("missing   not in {} {}", linux::PACKAGE, self.to),
            };
            out.push_str(&format!("{:width$}  {:path_width$}  {what}\n", f.driver, f.path));
        }
        let changed = self.files.iter().filter(|f| f.new.as_ref() != Some(&f.old)).count();
        let verb = if self.written { "re-pinned" } else { "would re-pin (dry run)" };
        out.push_str(&format!(
            "{verb} {} {} -> {}: {changed} of {} file{} changed\n",
            linux::PACKAGE,
            self.from,
            self.to,
            self.files.len(),
            if self.files.len() == 1 { "" } else { "s" }
        ));
        if self.written && changed > 0 {
            out.push_str("review `git diff drivers-legacy/` and the changed sources, then build and test\n");
        }
        out
    }
}

/// Replaces each changed sha256 in a manifest's text.
pub fn repinned_text(text: &str, files: &[Repinned]) -> String {
    let mut out = text.to_string();
    for f in files {
        if let Some(new) = f.new.as_ref().filter(|n| **n != f.old) {
            out = out.replace(&format!("\"{}\"", f.old), &format!("\"{new}\""));
        }
    }
    out
}

/// `resurgo driver pin VERSION`: fetches that version of the Linux sources,
/// compares every pinned file of every driver and, with `write`, rewrites the
/// manifests' sums and [`linux::PIN_FILE`].
pub fn repin(version: &str, write: bool, progress: bool) -> Result<RepinReport> {
    let from = linux::pinned_version()?;
    let drivers = all()?;
    let mut paths: Vec<String> = drivers.iter().flat_map(|d| d.linux_files()).map(|f| f.path).collect();
    paths.sort();
    paths.dedup();
    let sources = linux::fetch_unchecked(&paths, &[], Some(version), progress)?;
    if sources.version != version {
        bail!(
            "error: asked to pin {version}, but the sources at hand are {} (is {} set?)",
            sources.version,
            linux::DEB_ENV
        );
    }
    let mut files = Vec::new();
    for d in &drivers {
        for f in d.linux_files() {
            let new = linux::sha256_file(&sources.path(&f.path)).ok();
            files.push(Repinned { driver: d.name.clone(), path: f.path, old: f.sha256, new });
        }
    }
    if write {
        let absent: Vec<String> =
            files.iter().filter(|f| f.new.is_none()).map(|f| format!("{} ({})", f.path, f.driver)).collect();
        if !absent.is_empty() {
            bail!("error: cannot pin {version}: it lacks {}", absent.join(", "));
        }
        for d in &drivers {
            let mine: Vec<Repinned> = files.iter().filter(|f| f.driver == d.name).cloned().collect();
            let text = repinned_text(&d.text, &mine);
            DriverManifest::parse(&text)
                .map_err(|e| anyhow::anyhow!("error: {}: re-pinned, it would not parse: {e}", d.shown_manifest()))?;
            if text != d.text {
                fs::write(&d.manifest_path, text).with_context(|| format!("cannot write {}", d.shown_manifest()))?;
            }
        }
        let pin_path = workspace_root().join(linux::PIN_FILE);
        let pin = fs::read_to_string(&pin_path).with_context(|| format!("cannot read {}", linux::PIN_FILE))?;
        let new_pin = pin.replace(&format!("version = \"{from}\""), &format!("version = \"{version}\""));
        fs::write(&pin_path, new_pin).with_context(|| format!("cannot write {}", linux::PIN_FILE))?;
        if linux::pinned_version()? != version {
            bail!("error: {}: could not rewrite its version line", linux::PIN_FILE);
        }
    }
    Ok(RepinReport { from, to: version.to_string(), files, written: write })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_manifests_parse_and_pin_qemus_cards() {
        let drivers = all().unwrap();
        let names: Vec<&str> = drivers.iter().map(|d| d.name.as_str()).collect();
        for (name, id) in
            [("8139cp", "10ec:8139"), ("ne2k-pci", "10ec:8029"), ("e1000", "8086:100e"), ("pcnet32", "1022:2000")]
        {
            let d = drivers.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} in {names:?}"));
            assert!(d.manifest.pci_ids.iter().any(|i| i == id), "{name} lacks {id}");
            assert!(d.files().all(|f| f.path.starts_with("drivers/net/ethernet/")), "{name}");
        }
    }

    #[test]
    fn json_has_exactly_the_promised_fields() {
        let drivers = all().unwrap();
        let v: serde_json::Value = serde_json::from_str(&list_json(&drivers)).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["drivers"]);
        for d in v["drivers"].as_array().unwrap() {
            let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["name", "sources", "pci_ids", "built"]);
            for s in d["sources"].as_array().unwrap() {
                assert_eq!(s.as_object().unwrap().keys().collect::<Vec<_>>(), ["path", "sha256"]);
            }
        }
    }

    #[test]
    fn folder_and_name_must_agree() {
        let tmp = std::env::temp_dir().join(format!("resurgo-drivers-{}", std::process::id()));
        let dir = tmp.join("other");
        fs::create_dir_all(&dir).unwrap();
        let sha = "0".repeat(64);
        fs::write(
            dir.join(MANIFEST_FILE),
            format!("name = \"x\"\npci-ids = [\"10ec:8139\"]\nsources = [{{ path = \"a.c\", sha256 = \"{sha}\" }}]\n"),
        )
        .unwrap();
        let e = all_in(&tmp).unwrap_err().to_string();
        assert!(e.contains("named `x` but its folder is `other`"), "{e}");
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn firmware_goes_into_an_archive_of_its_own_checked() {
        let tmp = std::env::temp_dir().join(format!("resurgo-firmware-{}", std::process::id()));
        let dir = tmp.join("x");
        fs::create_dir_all(dir.join("fw")).unwrap();
        let bytes = b"our own firmware bytes".as_slice();
        fs::write(dir.join("fw/x.bin"), bytes).unwrap();
        let manifest = |sum: &str, file: &str| {
            let src = "0".repeat(64);
            format!(
                "name = \"x\"\npci-ids = [\"10ec:8139\"]\nsources = [{{ path = \"a.c\", sha256 = \"{src}\" }}]\n\
                 firmware = [{{ name = \"vendor/x.bin\", file = \"{file}\", sha256 = \"{sum}\" }}]\n"
            )
        };
        let good = linux::sha256_hex(bytes);
        fs::write(dir.join(MANIFEST_FILE), manifest(&good, "fw/x.bin")).unwrap();
        let tar = firmware_archive(&Driver::load(&dir).unwrap()).unwrap().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries: Vec<(String, Vec<u8>)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut data).unwrap();
                (e.path().unwrap().display().to_string(), data)
            })
            .collect();
        assert_eq!(entries, [("vendor/x.bin".to_string(), bytes.to_vec())]);

        // A changed file, and a missing one, stop the build with the reason.
        let other = "1".repeat(64);
        fs::write(dir.join(MANIFEST_FILE), manifest(&other, "fw/x.bin")).unwrap();
        let e = firmware_archive(&Driver::load(&dir).unwrap()).unwrap_err().to_string();
        assert!(e.contains(&format!("has sha256 {good}, the manifest pins {other}")), "{e}");
        fs::write(dir.join(MANIFEST_FILE), manifest(&good, "fw/gone.bin")).unwrap();
        let e = format!("{:#}", firmware_archive(&Driver::load(&dir).unwrap()).unwrap_err());
        assert!(e.contains("firmware `vendor/x.bin`: cannot read") && e.contains("gone.bin"), "{e}");
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn repinning_rewrites_only_changed_sums() {
        let text = "sources = [\n  { path = \"a.c\", sha256 = \"aa\" },\n  { path = \"b.c\", sha256 = \"bb\" },\n]\n";
        let files = [
            Repinned { driver: "x".into(), path: "a.c".into(), old: "aa".into(), new: Some("aa".into()) },
            Repinned { driver: "x".into(), path: "b.c".into(), old: "bb".into(), new: Some("cc".into()) },
        ];
        assert_eq!(repinned_text(text, &files), text.replace("\"bb\"", "\"cc\""));
        let report = RepinReport { from: "1-1".into(), to: "1-2".into(), files: files.to_vec(), written: false };
        let table = report.table();
        assert!(table.contains("x  b.c  changed   bb -> cc"), "{table}");
        assert!(table.contains("would re-pin (dry run) linux-source-6.1 1-1 -> 1-2: 1 of 2 files changed"), "{table}");
    }
}
