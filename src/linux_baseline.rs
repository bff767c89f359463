//! The native baseline of `resurgo bench net`: Debian's Linux 6.1 kernel (the
//! same 6.1.192 the legacy drivers are compiled from) booted in the same QEMU
//! configuration as Resurgo, with a busybox-static initramfs that loads one NIC
//! driver in-kernel and runs a plain TCP sink (port 9) and source (port 19)
//! with busybox `nc`.
//!
//! Both packages are fetched with `apt-get download` at pinned versions, checked
//! against pinned sha256 sums and unpacked (ar, xz, tar) into
//! `${XDG_CACHE_HOME:-~/.cache}/resurgo/<package>_<version>/`; the `.deb`s are
//! deleted once unpacked. The kernel package ships no `modules.dep` (Debian's
//! postinst runs depmod), so one is written into the cache from what depmod
//! reads too: the `depends=` field modpost records in each module's `.modinfo`.
//! Only the modules the NIC drivers need (and their dependencies) are kept.
//!
//! The initramfs is a newc cpio written here: `/init` (a shell script),
//! `/bin/busybox`, `/dev/console` and the modules as `/lib/modules/NAME.ko`.
//! Which modules to load, in order, and how many bytes the source sends come on
//! the kernel command line (see [`cmdline`]); the kernel hands unknown
//! `key=value` parameters to init as environment variables.

use crate::apt::{self, Failure};
use crate::host::DirLock;
use crate::linux::{cache_root, sha256_file};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A Debian package pinned to one version and one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    pub package: &'static str,
    pub version: &'static str,
    /// sha256 of the `.deb` (as in `apt-cache show PACKAGE=VERSION`).
    pub sha256: &'static str,
}

impl Pinned {
    /// `PACKAGE=VERSION`, as apt takes it.
    pub fn spec(&self) -> String {
        format!("{}={}", self.package, self.version)
    }

    /// The cache folder it is unpacked into: `PACKAGE_VERSION` (the epoch's
    /// colon dropped, as it is not welcome in file names).
    pub fn cache_dir_name(&self) -> String {
        let version = self.version.split_once(':').map_or(self.version, |(_, v)| v);
        format!("{}_{}", self.package, version)
    }
}

/// Debian bookworm's kernel for 6.1.192 (what `linux-image-amd64` 6.1.192-2
/// depends on): the same Linux release as the `linux-source-6.1` the drivers
/// are compiled from ([`crate::linux::PINNED_VERSION`]).
pub const KERNEL: Pinned = Pinned {
    package: "linux-image-6.1.0-56-amd64",
    version: "6.1.192-2",
    sha256: "a86e2049672f52354c4536a089203b6c82639420424d31c91cf31a181fd4d8f1",
};
/// The kernel release (`uname -r`) of [`KERNEL`]: its folder under `/lib/modules`.
pub const KERNEL_RELEASE: &str = "6.1.0-56-amd64";
/// A statically linked busybox for the initramfs.
pub const BUSYBOX: Pinned = Pinned {
    package: "busybox-static",
    version: "1:1.35.0-4+deb12u1+b1",
    sha256: "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744",
};

/// The guest's address on QEMU's user network (the same as netd's).
pub const GUEST_ADDRESS: &str = "10.0.2.15/24";
/// QEMU's user-network gateway.
pub const GATEWAY: &str = "10.0.2.2";

/// Printed by init once the interface is up and both `nc`s listen:
/// `baseline: ready driver=NAME mac=...`.
pub const READY_MARK: &str = "baseline: ready";
/// Printed by init when it cannot get there: `baseline: error ...`.
pub const ERROR_MARK: &str = "baseline: error";
/// Printed after each connection to the sink: `baseline: sink received N bytes`.
pub const SINK_MARK: &str = "baseline: sink received";
/// Printed after each connection to the source: `baseline: source sent N bytes`.
pub const SOURCE_MARK: &str = "baseline: source sent";

/// The initramfs's `/init`. `bench_modules` (comma-separated module names, in
/// load order) and `bench_tx_bytes` come from the kernel command line.
///
/// The sink's `nc` reads its stdin from a FIFO that nobody writes (so it never
/// half-closes the connection early), writes what it receives into `wc -c`,
/// and exits when the host closes: the host sees the guest close right after
/// the last byte arrived. The source is `head -c N /dev/zero` into `nc`, which
/// half-closes after N bytes; the 8-byte count the host sends is ignored.
pub const INIT_SCRIPT: &str = r#"#!/bin/busybox sh
/bin/busybox mkdir -p /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "baseline: error $*"; exec sleep 2147483647; }
for m in $(echo "$bench_modules" | tr , ' '); do
    insmod "/lib/modules/$m.ko" || fail "insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "no eth0 after loading $bench_modules"; sleep 0.1
done
ip link set lo up
ip link set eth0 up || fail "cannot bring eth0 up"
ip addr add @ADDRESS@ dev eth0 || fail "cannot set the address"
ip route add default via @GATEWAY@
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "eth0 has no carrier"; sleep 0.1
done
mkfifo /tmp/never
exec 3<>/tmp/never
(while true; do n=$(nc -l -p 9 <&3 | wc -c); echo "baseline: sink received $n bytes"; done) &
(while true; do head -c "$bench_tx_bytes" /dev/zero | nc -l -p 19 >/dev/null; echo "baseline: source sent $bench_tx_bytes bytes"; done) &
i=0
while ! netstat -ltn | grep -q ':9 ' || ! netstat -ltn | grep -q ':19 '; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "nc does not listen"; sleep 0.1
done
driver=$(basename "$(readlink /sys/class/net/eth0/device/driver)")
echo "baseline: ready driver=$driver mac=$(cat /sys/class/net/eth0/address)"
exec sleep 2147483647
"#;

/// The init script with the addresses filled in.
pub fn init_script() -> String {
    INIT_SCRIPT.replace("@ADDRESS@", GUEST_ADDRESS).replace("@GATEWAY@", GATEWAY)
}

/// The kernel command line: serial console, QEMU exits on a panic
/// (`panic=-1` with `-no-reboot`), the modules to load in order and the
/// source's byte count.
pub fn cmdline(modules: &[String], tx_bytes: u64) -> String {
    format!("console=ttyS0 quiet panic=-1 bench_modules={} bench_tx_bytes={tx_bytes}", modules.join(","))
}

/// The driver name in a ready line (`baseline: ready driver=e1000 mac=...`).
pub fn ready_driver(line: &str) -> Option<&str> {
    let rest = &line[line.find(READY_MARK)? + READY_MARK.len()..];
    rest.split_whitespace().find_map(|w| w.strip_prefix("driver="))
}

/// The byte count in `baseline: sink received N bytes` (or `source sent`).
pub fn reported_bytes(line: &str, mark: &str) -> Option<u64> {
    let rest = &line[line.find(mark)? + mark.len()..];
    let mut words = rest.split_whitespace();
    let n = words.next()?.parse().ok()?;
    (words.next()? == "bytes").then_some(n)
}

/// A module's name as the kernel knows it: the file name without `.ko`, with
/// `-` as `_` (`ne2k-pci.ko` → `ne2k_pci`).
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".ko").unwrap_or(file).replace('-', "_")
}

/// What a module's `.modinfo` section says: its name and the modules it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    pub name: Option<String>,
    pub depends: Vec<String>,
}

/// Parses a `.modinfo` section: NUL-separated `key=value` strings.
pub fn parse_modinfo(section: &[u8]) -> ModInfo {
    let mut info = ModInfo::default();
    for item in section.split(|&b| b == 0) {
        let Ok(item) = std::str::from_utf8(item) else { continue };
        match item.split_once('=') {
            Some(("name", v)) if !v.is_empty() => info.name = Some(v.replace('-', "_")),
            Some(("depends", v)) => {
                info.depends = v.split(',').filter(|d| !d.is_empty()).map(|d| d.replace('-', "_")).collect();
            }
            _ => {}
        }
    }
    info
}

/// Reads the `.modinfo` section of a module (an ELF relocatable file).
pub fn read_modinfo(ko: &[u8]) -> Result<ModInfo> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(ko).context("not an ELF file")?;
    let section = file.section_by_name(".modinfo").ok_or_else(|| anyhow!("no .modinfo section"))?;
    Ok(parse_modinfo(section.data().context("reading .modinfo")?))
}

/// Every module of a kernel: its path under `/lib/modules/RELEASE`
/// (`kernel/drivers/net/mii.ko`) and the names of the modules it needs.
pub type ModuleIndex = BTreeMap<String, (String, Vec<String>)>;

/// Builds the index (by module name) from `(path, modinfo)` pairs.
pub fn module_index(modules: impl IntoIterator<Item = (String, ModInfo)>) -> ModuleIndex {
    modules
        .into_iter()
        .map(|(path, info)| (info.name.unwrap_or_else(|| module_name(&path)), (path, info.depends)))
        .collect()
}

/// The modules to load for `roots`, dependencies first, each once.
pub fn load_order(index: &ModuleIndex, roots: &[&str]) -> Result<Vec<String>> {
    fn visit(
        index: &ModuleIndex,
        name: &str,
        via: &mut Vec<String>,
        out: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Result<()> {
        if done.contains(name) {
            return Ok(());
        }
        if via.iter().any(|v| v == name) {
            bail!("modules depend on each other in a circle: {} -> {name}", via.join(" -> "));
        }
        let Some((_, deps)) = index.get(name) else {
            return Err(match via.last() {
                Some(user) => anyhow!("module `{user}` needs `{name}`, which the kernel package does not have"),
                None => anyhow!("the kernel package has no module `{name}`"),
            });
        };
        via.push(name.to_string());
        for dep in deps {
            visit(index, dep, via, out, done)?;
        }
        via.pop();
        done.insert(name.to_string());
        out.push(name.to_string());
        Ok(())
    }
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for root in roots {
        visit(index, &root.replace('-', "_"), &mut Vec::new(), &mut out, &mut done)?;
    }
    Ok(out)
}

/// The index in depmod's `modules.dep` format: `path: dep-path ...`, where the
/// dependencies are every module needed, transitively, listed so that loading
/// them from last to first works (as modprobe does).
pub fn format_modules_dep(index: &ModuleIndex) -> String {
    let mut out = String::new();
    for (name, (path, _)) in index {
        out.push_str(path);
        out.push(':');
        if let Ok(order) = load_order(index, &[name.as_str()]) {
            for dep in order.iter().rev().skip(1) {
                out.push(' ');
                out.push_str(&index[dep].0);
            }
        }
        out.push('\n');
    }
    out
}

/// Parses `modules.dep` back into an index. The transitive lists become
/// dependency lists: [`load_order`] gives the same order either way.
pub fn parse_modules_dep(text: &str) -> Result<ModuleIndex> {
    let mut index = ModuleIndex::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (path, deps) = line.split_once(':').ok_or_else(|| anyhow!("modules.dep:{}: no `:`", n + 1))?;
        let deps: Vec<String> = deps.split_whitespace().rev().map(module_name).collect();
        index.insert(module_name(path), (path.trim().to_string(), deps));
    }
    Ok(index)
}

/// One member of a newc cpio archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpioEntry {
    Dir { path: String, mode: u32 },
    File { path: String, mode: u32, data: Vec<u8> },
    CharDev { path: String, mode: u32, major: u32, minor: u32 },
}

/// A newc ("070701") cpio archive, as the kernel unpacks an initramfs: owner
/// root, time 0, every header and body padded to 4 bytes, then `TRAILER!!!`.
pub fn cpio_newc(entries: &[CpioEntry]) -> Vec<u8> {
    fn member(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, rdev: (u32, u32), name: &str, data: &[u8]) {
        let fields = [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, rdev.0, rdev.1, name.len() as u32 + 1, 0];
        out.extend_from_slice(b"070701");
        for field in fields {
            out.extend_from_slice(format!("{field:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let ino = i as u32 + 1;
        match entry {
            CpioEntry::Dir { path, mode } => member(&mut out, ino, 0o040000 | mode, 2, (0, 0), path, &[]),
            CpioEntry::File { path, mode, data } => member(&mut out, ino, 0o100000 | mode, 1, (0, 0), path, data),
            CpioEntry::CharDev { path, mode, major, minor } => {
                member(&mut out, ino, 0o020000 | mode, 1, (*major, *minor), path, &[])
            }
        }
    }
    member(&mut out, 0, 0, 1, (0, 0), "TRAILER!!!", &[]);
    out
}

/// The unpacked kernel, busybox and NIC driver modules in the cache.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `vmlinuz`, booted with QEMU's `-kernel`.
    pub kernel: PathBuf,
    /// The static busybox binary.
    pub busybox: PathBuf,
    /// The folder the module paths of [`Baseline::index`] are relative to.
    pub modules_dir: PathBuf,
    /// From the `modules.dep` in the cache.
    pub index: ModuleIndex,
}

impl Baseline {
    /// Writes an initramfs with every module `modules` names (names as in
    /// [`load_order`]) to `out`.
    pub fn write_initramfs(&self, modules: &[String], out: &Path) -> Result<()> {
        let mut entries = vec![];
        for dir in ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"] {
            entries.push(CpioEntry::Dir { path: dir.into(), mode: 0o755 });
        }
        entries.push(CpioEntry::CharDev { path: "dev/console".into(), mode: 0o600, major: 5, minor: 1 });
        entries.push(CpioEntry::File { path: "init".into(), mode: 0o755, data: init_script().into_bytes() });
        let busybox = fs::read(&self.busybox).with_context(|| format!("cannot read {}", self.busybox.display()))?;
        entries.push(CpioEntry::File { path: "bin/busybox".into(), mode: 0o755, data: busybox });
        for name in modules {
            let (path, _) = self.index.get(name).ok_or_else(|| anyhow!("no module `{name}` in modules.dep"))?;
            let file = self.modules_dir.join(path);
            let data = fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            entries.push(CpioEntry::File { path: format!("lib/modules/{name}.ko"), mode: 0o644, data });
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(out, cpio_newc(&entries)).with_context(|| format!("cannot write {}", out.display()))
    }
}

/// The file name of `modules.dep` in the kernel's cache folder.
const MODULES_DEP: &str = "modules.dep";
const VMLINUZ: &str = "vmlinuz";
const BUSYBOX_BIN: &str = "busybox";

/// Makes sure the kernel, busybox and the modules `roots` need (module names)
/// are in the cache, fetching and unpacking what is missing.
pub fn ensure(roots: &[&str], progress: bool) -> Result<Baseline> {
    let _lock = DirLock::acquire(&CACHE_LOCK, &cache_root()?, ".baseline-lock")?;
    let root = cache_root()?;
    let kernel_dir = root.join(KERNEL.cache_dir_name());
    let busybox_dir = root.join(BUSYBOX.cache_dir_name());

    let busybox = busybox_dir.join(BUSYBOX_BIN);
    if !busybox.is_file() {
        let deb = fetch(&BUSYBOX, &root, progress)?;
        let wanted = |path: &str| path == "bin/busybox";
        let mut found = unpack(&deb, &BUSYBOX, &wanted, "bin/busybox", progress)?;
        let data = found.remove("bin/busybox").ok_or_else(|| anyhow!("{} has no bin/busybox", BUSYBOX.spec()))?;
        write_file(&busybox, &data, 0o755)?;
        remove_download(&deb);
    }

    let baseline = |index| Baseline {
        kernel: kernel_dir.join(VMLINUZ),
        busybox: busybox.clone(),
        modules_dir: kernel_dir.clone(),
        index,
    };
    if let Some(index) = complete_kernel(&kernel_dir, roots) {
        return Ok(baseline(index));
    }

    let deb = fetch(&KERNEL, &root, progress)?;
    let vmlinuz = format!("boot/vmlinuz-{KERNEL_RELEASE}");
    let modules_prefix = format!("lib/modules/{KERNEL_RELEASE}/");
    // First pass: the kernel, every module's .modinfo (for modules.dep) and the
    // roots. A second pass picks up dependencies when they are not all there.
    let mut infos: Vec<(String, ModInfo)> = Vec::new();
    let root_names: BTreeSet<String> = roots.iter().map(|r| r.replace('-', "_")).collect();
    let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    {
        let mut visit = |path: &str, data: &[u8]| -> Result<bool> {
            if path == vmlinuz {
                kept.insert(VMLINUZ.into(), data.to_vec());
            } else if let Some(rel) = path.strip_prefix(&modules_prefix).filter(|p| p.ends_with(".ko")) {
                let info = read_modinfo(data).with_context(|| format!("reading module {rel}"))?;
                let name = info.name.clone().unwrap_or_else(|| module_name(rel));
                if root_names.contains(&name) {
                    kept.insert(rel.to_string(), data.to_vec());
                }
                infos.push((rel.to_string(), info));
            }
            Ok(true)
        };
        let wanted = |path: &str| path == vmlinuz || (path.starts_with(&modules_prefix) && path.ends_with(".ko"));
        scan(&deb, &KERNEL, &wanted, &mut visit, "the kernel and the modules' dependencies", progress)?;
    }
    if !kept.contains_key(VMLINUZ) {
        bail!("{} has no {vmlinuz}", KERNEL.spec());
    }
    let index = module_index(infos);
    let needed: BTreeSet<String> =
        load_order(&index, roots)?.iter().map(|name| index[name].0.clone()).filter(|p| !kept.contains_key(p)).collect();
    if !needed.is_empty() {
        let wanted = |path: &str| path.strip_prefix(&modules_prefix).is_some_and(|rel| needed.contains(rel));
        let found = unpack(&deb, &KERNEL, &wanted, &format!("{} needed module(s)", needed.len()), progress)?;
        for (path, data) in found {
            kept.insert(path.strip_prefix(&modules_prefix).unwrap_or(&path).to_string(), data);
        }
    }
    for (rel, data) in &kept {
        write_file(&kernel_dir.join(rel), data, 0o644)?;
    }
    write_file(&kernel_dir.join(MODULES_DEP), format_modules_dep(&index).as_bytes(), 0o644)?;
    remove_download(&deb);
    complete_kernel(&kernel_dir, roots)
        .map(baseline)
        .ok_or_else(|| anyhow!("unpacked {} but {} is still incomplete", KERNEL.spec(), kernel_dir.display()))
}

/// The index when the kernel folder has the kernel, modules.dep and every
/// module `roots` need.
fn complete_kernel(dir: &Path, roots: &[&str]) -> Option<ModuleIndex> {
    if !dir.join(VMLINUZ).is_file() {
        return None;
    }
    let index = parse_modules_dep(&fs::read_to_string(dir.join(MODULES_DEP)).ok()?).ok()?;
    let order = load_order(&index, roots).ok()?;
    order.iter().all(|name| dir.join(&index[name].0).is_file()).then_some(index)
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let parent = path.parent().expect("a file in a folder");
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = parent.join(format!(".{}.part", path.file_name().unwrap_or_default().to_string_lossy()));
    fs::write(&tmp, data).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn remove_download(deb: &Path) {
    if let Some(dir) = deb.parent() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// The files `wanted` picks from the package's `data.tar.xz`, by path (without `./`).
fn unpack(
    deb: &Path,
    pkg: &Pinned,
    wanted: &dyn Fn(&str) -> bool,
    what: &str,
    progress: bool,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut keep = |path: &str, data: &[u8]| -> Result<bool> {
        found.insert(path.to_string(), data.to_vec());
        Ok(true)
    };
    scan(deb, pkg, wanted, &mut keep, what, progress)?;
    Ok(found)
}

/// Streams the package's `data.tar.xz` and calls `visit` with each regular
/// file `wanted` picks (path without `./`, contents); `visit` returning false
/// stops the scan.
fn scan(
    deb: &Path,
    pkg: &Pinned,
    wanted: &dyn Fn(&str) -> bool,
    visit: &mut dyn FnMut(&str, &[u8]) -> Result<bool>,
    what: &str,
    progress: bool,
) -> Result<()> {
    let file = File::open(deb).with_context(|| format!("cannot open {}", deb.display()))?;
    let mut archive = ar::Archive::new(BufReader::with_capacity(1 << 20, file));
    while let Some(entry) = archive.next_entry() {
        let entry = entry.with_context(|| format!("reading {} (an ar archive)", deb.display()))?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        if !name.starts_with("data.tar") {
            continue;
        }
        if name != "data.tar.xz" {
            bail!("the data of {} is `{name}`: only data.tar.xz is supported", pkg.spec());
        }
        let size = entry.header().size();
        let bar = bar(progress, size, &format!("unpacking {} from {} {}", what, pkg.package, pkg.version));
        let mut tar = tar::Archive::new(xz2::read::XzDecoder::new(BufReader::new(bar.wrap_read(entry))));
        let mut data = Vec::new();
        let result = (|| -> Result<()> {
            for item in tar.entries().context("reading data.tar.xz")? {
                let mut item = item.context("reading data.tar.xz")?;
                if !item.header().entry_type().is_file() {
                    continue;
                }
                let path = item.path().context("a path in data.tar.xz")?.to_string_lossy().into_owned();
                let path = path.trim_start_matches("./");
                if !wanted(path) {
                    continue;
                }
                let path = path.to_string();
                data.clear();
                item.read_to_end(&mut data).with_context(|| format!("unpacking {path}"))?;
                if !visit(&path, &data)? {
                    break;
                }
            }
            Ok(())
        })();
        bar.finish_and_clear();
        return result;
    }
    bail!("{} has no data.tar.xz: is it a Debian package?", deb.display())
}

fn bar(progress: bool, len: u64, msg: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    if !std::io::stderr().is_terminal() {
        eprintln!("{msg}");
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template("{spinner} {msg} {bar:30} {bytes}/{total_bytes} {eta}")
            .expect("progress template"),
    );
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Downloads the pinned package into a fresh folder under `root` with
/// `apt-get download` (refreshing apt's lists first when they do not offer
/// it) and checks its sha256; returns the `.deb`'s path.
fn fetch(pkg: &Pinned, root: &Path, progress: bool) -> Result<PathBuf> {
    let dir = root.join(format!("download-{}-{}", pkg.package, std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut updated = false;
    loop {
        let out = apt::download(&pkg.spec(), &dir, progress)?;
        if out.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        match apt::classify(&stderr) {
            Failure::UnknownPackage | Failure::VersionGone | Failure::FetchFailed if !updated => {
                apt::update(&format!("do not offer {} {} (they may be older than it)", pkg.package, pkg.version))?;
                updated = true;
            }
            Failure::VersionGone => bail!(
                "error: Debian no longer offers {} {}, the pinned native baseline (see `apt-cache policy {}`): \
                 pin the current version in src/linux_baseline.rs",
                pkg.package,
                pkg.version,
                pkg.package
            ),
            _ => {
                bail!("error: `apt-get download {}` failed ({}): {}", pkg.spec(), out.status, apt::error_lines(&stderr))
            }
        }
    }
    let deb = apt::deb_in(&dir)
        .ok_or_else(|| anyhow!("`apt-get download {}` left no .deb in {}", pkg.spec(), dir.display()))?;
    let sum = sha256_file(&deb)?;
    if sum != pkg.sha256 {
        bail!(
            "error: {}: sha256 {sum}, but src/linux_baseline.rs pins {} for {}",
            deb.display(),
            pkg.sha256,
            pkg.spec()
        );
    }
    Ok(deb)
}

/// Keeps the threads of this process out of the baseline's cache folders one at a time.
static CACHE_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, &[&str])]) -> ModuleIndex {
        module_index(entries.iter().map(|(path, deps)| {
            (path.to_string(), ModInfo { name: None, depends: deps.iter().map(|d| d.to_string()).collect() })
        }))
    }

    fn nic_index() -> ModuleIndex {
        index(&[
            ("kernel/drivers/net/mii.ko", &[]),
            ("kernel/drivers/net/ethernet/realtek/8139cp.ko", &["mii"]),
            ("kernel/drivers/net/ethernet/8390/8390.ko", &[]),
            ("kernel/drivers/net/ethernet/8390/ne2k-pci.ko", &["8390"]),
            ("kernel/drivers/net/ethernet/intel/e1000/e1000.ko", &[]),
            ("kernel/drivers/net/ethernet/amd/pcnet32.ko", &["mii"]),
        ])
    }

    #[test]
    fn modinfo_gives_name_and_dependencies() {
        let section = b"license=GPL\0depends=8390,some-lib\0retpoline=Y\0name=ne2k-pci\0vermagic=6.1.0-56-amd64 SMP\0";
        let info = parse_modinfo(section);
        assert_eq!(info.name.as_deref(), Some("ne2k_pci"));
        assert_eq!(info.depends, ["8390", "some_lib"]);
        assert_eq!(parse_modinfo(b"depends=\0name=e1000\0"), ModInfo { name: Some("e1000".into()), depends: vec![] });
    }

    #[test]
    fn module_names_use_underscores() {
        assert_eq!(module_name("kernel/drivers/net/ethernet/8390/ne2k-pci.ko"), "ne2k_pci");
        assert_eq!(module_name("mii.ko"), "mii");
    }

    #[test]
    fn load_order_puts_dependencies_first_once() {
        let idx = nic_index();
        assert_eq!(load_order(&idx, &["8139cp"]).unwrap(), ["mii", "8139cp"]);
        assert_eq!(load_order(&idx, &["ne2k-pci"]).unwrap(), ["8390", "ne2k_pci"]);
        assert_eq!(load_order(&idx, &["e1000"]).unwrap(), ["e1000"]);
        assert_eq!(load_order(&idx, &["8139cp", "pcnet32"]).unwrap(), ["mii", "8139cp", "pcnet32"]);
    }

    #[test]
    fn load_order_reports_missing_modules_and_cycles() {
        let err = load_order(&nic_index(), &["tulip"]).unwrap_err().to_string();
        assert!(err.contains("no module `tulip`"), "{err}");
        let idx = index(&[("a.ko", &["b"]), ("b.ko", &["c"])]);
        let err = load_order(&idx, &["a"]).unwrap_err().to_string();
        assert!(err.contains("`b` needs `c`"), "{err}");
        let idx = index(&[("a.ko", &["b"]), ("b.ko", &["a"])]);
        assert!(load_order(&idx, &["a"]).unwrap_err().to_string().contains("circle"));
    }

    #[test]
    fn modules_dep_round_trips_in_depmod_format() {
        let idx = index(&[("k/a.ko", &["b", "c"]), ("k/b.ko", &["c"]), ("k/c.ko", &[]), ("k/d-x.ko", &["a"])]);
        let text = format_modules_dep(&idx);
        assert!(text.contains("k/a.ko: k/b.ko k/c.ko\n"), "{text}");
        assert!(text.contains("k/c.ko:\n"), "{text}");
        assert!(text.contains("k/d-x.ko: k/a.ko k/b.ko k/c.ko\n"), "{text}");
        let back = parse_modules_dep(&text).unwrap();
        for root in ["a", "b", "c", "d_x"] {
            assert_eq!(load_order(&back, &[root]).unwrap(), load_order(&idx, &[root]).unwrap(), "{root}");
        }
        assert_eq!(back["d_x"].0, "k/d-x.ko");
        assert!(parse_modules_dep("no colon here\n").is_err());
    }

    /// A member read back: name, mode, rdev (major, minor), data.
    type Member = (String, u32, (u32, u32), Vec<u8>);

    /// Reads a newc archive back.
    fn read_cpio(mut bytes: &[u8]) -> Vec<Member> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&bytes[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap()
            };
            assert_eq!(&bytes[..6], b"070701");
            let (mode, size, rdev, namesize) = (field(1), field(6) as usize, (field(9), field(10)), field(11) as usize);
            let name = std::str::from_utf8(&bytes[110..110 + namesize - 1]).unwrap().to_string();
            assert_eq!(bytes[110 + namesize - 1], 0);
            let data_at = (offset + 110 + namesize).next_multiple_of(4) - offset;
            let data = bytes[data_at..data_at + size].to_vec();
            let next = (offset + data_at + size).next_multiple_of(4) - offset;
            offset += next;
            bytes = &bytes[next..];
            if name == "TRAILER!!!" {
                assert!(bytes.is_empty());
                return out;
            }
            out.push((name, mode, rdev, data));
        }
    }

    #[test]
    fn cpio_newc_members_read_back() {
        let entries = vec![
            CpioEntry::Dir { path: "dev".into(), mode: 0o755 },
            CpioEntry::CharDev { path: "dev/console".into(), mode: 0o600, major: 5, minor: 1 },
            CpioEntry::File { path: "init".into(), mode: 0o755, data: b"#!/bin/sh\n".to_vec() },
            CpioEntry::File { path: "x".into(), mode: 0o644, data: vec![7; 5] },
        ];
        let bytes = cpio_newc(&entries);
        assert_eq!(bytes.len() % 4, 0);
        assert!(bytes.starts_with(b"07070100000001000041ed"));
        let back = read_cpio(&bytes);
        assert_eq!(back.len(), 4);
        assert_eq!(back[0], ("dev".into(), 0o040755, (0, 0), vec![]));
        assert_eq!(back[1], ("dev/console".into(), 0o020600, (5, 1), vec![]));
        assert_eq!(back[2], ("init".into(), 0o100755, (0, 0), b"#!/bin/sh\n".to_vec()));
        assert_eq!(back[3], ("x".into(), 0o100644, (0, 0), vec![7; 5]));
    }

    #[test]
    fn init_script_and_command_line() {
        let script = init_script();
        assert!(script.starts_with("#!/bin/busybox sh\n"));
        assert!(script.contains("ip addr add 10.0.2.15/24 dev eth0"));
        assert!(script.contains("via 10.0.2.2"));
        assert!(!script.contains('@'));
        for mark in [READY_MARK, ERROR_MARK, SINK_MARK, SOURCE_MARK] {
            assert!(script.contains(mark), "{mark}");
        }
        assert_eq!(
            cmdline(&["mii".into(), "8139cp".into()], 1 << 24),
            "console=ttyS0 quiet panic=-1 bench_modules=mii,8139cp bench_tx_bytes=16777216"
        );
    }

    #[test]
    fn guest_lines_parse() {
        assert_eq!(ready_driver("baseline: ready driver=ne2k-pci mac=52:54:00:12:34:56"), Some("ne2k-pci"));
        assert_eq!(ready_driver("baseline: ready"), None);
        assert_eq!(ready_driver("something else driver=x"), None);
        assert_eq!(reported_bytes("baseline: sink received 16777216 bytes", SINK_MARK), Some(16777216));
        assert_eq!(reported_bytes("baseline: source sent 1048576 bytes", SOURCE_MARK), Some(1048576));
        assert_eq!(reported_bytes("baseline: sink received  bytes", SINK_MARK), None);
        assert_eq!(reported_bytes("baseline: sink received 12", SINK_MARK), None);
    }

    #[test]
    fn pinned_packages() {
        assert_eq!(KERNEL.spec(), "linux-image-6.1.0-56-amd64=6.1.192-2");
        assert_eq!(BUSYBOX.cache_dir_name(), "busybox-static_1.35.0-4+deb12u1+b1");
        assert!(KERNEL.package.ends_with(KERNEL_RELEASE));
        assert_eq!(
            crate::apt::upstream(KERNEL.version),
            crate::apt::upstream(&crate::linux::pinned_version().unwrap()),
            "the baseline runs the drivers' own Linux release"
        );
    }
}
