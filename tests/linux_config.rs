//! Linux's own kconfig expands Resurgo's configuration fragment
//! (`dde-linux-shim/resurgo.config`) and generates the headers a driver build
//! needs (src/linux_config.rs); code including Linux's headers compiles
//! against the result. The first run extracts and configures (about 30 s),
//! later runs find it cached.

use std::fs;
use std::process::Command;
use std::time::Instant;

#[test]
fn linux_configures_with_resurgos_fragment_and_its_headers_compile() {
    let p = resurgo::linux_config::prepare(true).unwrap_or_else(|e| panic!("{e:#}"));
    let autoconf = fs::read_to_string(p.autoconf()).unwrap();
    for on in [
        "CONFIG_PCI",
        "CONFIG_NET",
        "CONFIG_NETDEVICES",
        "CONFIG_DEBUG_SPINLOCK",
        "CONFIG_SPARSEMEM_VMEMMAP",
        "CONFIG_DYNAMIC_MEMORY_LAYOUT",
    ] {
        assert!(autoconf.contains(&format!("#define {on} 1\n")), "{on} is not on in {}", p.autoconf().display());
    }
    for off in ["CONFIG_SMP", "CONFIG_MODULES"] {
        assert!(!autoconf.contains(&format!("#define {off} 1\n")), "{off} is on");
    }
    assert_eq!(p.dot_config().unwrap().get("NR_CPUS").map(String::as_str), Some("1"));
    for generated in [
        "include/generated/bounds.h",
        "include/generated/timeconst.h",
        "include/generated/uapi/linux/version.h",
        "arch/x86/include/generated/uapi/asm/unistd_64.h",
        "arch/x86/include/generated/asm/rwonce.h",
        "lib/crc32table.h",
    ] {
        assert!(p.objtree.join(generated).is_file(), "{generated} was not generated");
    }

    // A file including the headers NIC drivers include compiles against them.
    let dir = std::env::temp_dir().join(format!("resurgo-linux-config-test-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let c = dir.join("probe.c");
    fs::write(
        &c,
        "#include <linux/module.h>\n#include <linux/pci.h>\n#include <linux/netdevice.h>\n\
         #include <linux/etherdevice.h>\n#include <linux/dma-mapping.h>\n#include <linux/interrupt.h>\n\
         int probe_size(void) { return sizeof(struct net_device) + sizeof(struct pci_dev); }\n",
    )
    .unwrap();
    let out = Command::new("gcc")
        .args(p.include_args(None))
        .args([
            "-std=gnu11",
            "-O2",
            "-fno-PIE",
            "-mno-red-zone",
            "-DKBUILD_MODNAME=\"probe\"",
            "-DKBUILD_BASENAME=\"probe\"",
        ])
        .arg("-DKBUILD_MODFILE=\"probe\"")
        .arg("-c")
        .arg(&c)
        .arg("-o")
        .arg(dir.join("probe.o"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    fs::remove_dir_all(&dir).unwrap();

    // Cached: the second time finds it done.
    let started = Instant::now();
    let again = resurgo::linux_config::prepare(false).unwrap();
    assert_eq!(again, p);
    assert!(started.elapsed().as_secs() < 10, "the configured tree was not reused ({:?})", started.elapsed());
}
