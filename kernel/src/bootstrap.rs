//! From the PVH start info to the first user task.
//!
//! Sets up physical memory (frame allocator, kernel heap), the kernel's page
//! tables, the CPU tables and devices, the root objects, and then loads `init`
//! from the boot archive (a tar file QEMU passes as `-initrd`) and hands it the
//! root capabilities: everything else is init's to give out.

use crate::arch::entry::syscall_entry;
use crate::arch::frame::FpuArea;
use crate::arch::{cpu, gdt, idt, pic, pit};
use crate::boot::{self, MemMapEntry, Module, StartInfo};
use crate::kernel::{KERNEL, Kernel};
use crate::lifecycle::{Access, TaskLimits};
use crate::mem::frames::FrameAllocator;
use crate::mem::{PAGE_SIZE, PHYS_OFFSET, heap, paging, phys_to_virt};
use crate::obj::{IoMem, IoPorts, ObjId, Object};
use crate::space::{Dataspace, Memory};
use crate::task::Cap;
use alloc::boxed::Box;
use l4_sys::cap::slot;
use l4_sys::env::{EnvPage, Kind};
use l4_sys::{Rights, layout};

const KERNEL_OFFSET: u64 = 0xffff_ffff_8000_0000;
const HEAP_SIZE: u64 = 32 << 20;
/// The boot page tables map only the first GiB.
const BOOT_MAPPED: u64 = 1 << 30;
const INIT_STACK: u64 = 64 * 1024;
const INIT_HEAP: u64 = 8 << 20;
const INIT_PRIORITY: u8 = 200;
const TIMER_HZ: u32 = 1000;

unsafe extern "C" {
    static __kernel_phys_start: u8;
    static __kernel_end: u8;
}

/// Slots of init's root capabilities.
pub mod init_slot {
    use l4_sys::CapIdx;
    pub const ICU: CapIdx = CapIdx(16);
    pub const IO_PORTS: CapIdx = CapIdx(17);
    pub const IO_MEM: CapIdx = CapIdx(18);
    pub const KERNEL: CapIdx = CapIdx(19);
    pub const BOOT_ARCHIVE: CapIdx = CapIdx(20);
    pub const IOMMU: CapIdx = CapIdx(21);
}

static mut IDLE_FPU: FpuArea = FpuArea([0; 512]);

fn phys_ref<T: Copy>(phys: u64) -> T {
    assert!(phys + core::mem::size_of::<T>() as u64 <= BOOT_MAPPED, "boot structure beyond the first GiB");
    // SAFETY: the boot page tables map the first GiB at PHYS_OFFSET, and the PVH
    // structures are plain data; `read_unaligned` copes with any alignment.
    unsafe { (phys_to_virt(phys) as *const T).read_unaligned() }
}

pub fn start(start_info: u64) -> ! {
    let si: StartInfo = phys_ref(start_info);
    assert_eq!(si.magic, boot::START_INFO_MAGIC, "not booted through PVH");
    assert!(si.version >= 1 && si.memmap_entries > 0, "the PVH start info has no memory map");
    let ram: heapless_ranges::Ranges = (0..si.memmap_entries as u64)
        .map(|i| phys_ref::<MemMapEntry>(si.memmap_paddr + i * core::mem::size_of::<MemMapEntry>() as u64))
        .filter(|e| e.kind == boot::E820_RAM)
        .map(|e| (e.addr, e.addr + e.size))
        .collect();
    assert!(si.nr_modules >= 1, "no boot archive: QEMU must be given one with -initrd");
    let module: Module = phys_ref(si.modlist_paddr);
    let archive = (module.paddr, module.paddr + module.size);

    // Linker-provided symbols: only their addresses are used.
    let (kstart, kend) = (&raw const __kernel_phys_start as u64, &raw const __kernel_end as u64 - KERNEL_OFFSET);
    let heap_start = ram
        .iter()
        .filter_map(|&(s, e)| {
            let start = s.max(kend).max(2 << 20).next_multiple_of(PAGE_SIZE);
            let end = start + HEAP_SIZE;
            (end <= e && end <= BOOT_MAPPED && (end <= archive.0 || start >= archive.1)).then_some(start)
        })
        .next()
        .expect("no room for the kernel heap in the first GiB");
    // SAFETY: the range is RAM, unused (not kernel, not archive), mapped by the
    // boot tables, and handed to the heap once.
    unsafe { heap::init(phys_to_virt(heap_start), HEAP_SIZE as usize) };

    let ram_end = ram.iter().map(|r| r.1).max().unwrap_or(0);
    let mut frames = FrameAllocator::new(ram_end / PAGE_SIZE);
    for &(s, e) in ram.iter() {
        frames.add_free(s.div_ceil(PAGE_SIZE), e / PAGE_SIZE);
    }
    frames.reserve(0, (1 << 20) / PAGE_SIZE);
    frames.reserve(kstart / PAGE_SIZE, kend.div_ceil(PAGE_SIZE));
    frames.reserve(heap_start / PAGE_SIZE, (heap_start + HEAP_SIZE) / PAGE_SIZE);
    frames.reserve(archive.0 / PAGE_SIZE, archive.1.div_ceil(PAGE_SIZE));

    // The ACPI tables lie in the first GiB, which the boot tables map.
    let read_phys = |phys: u64, buf: &mut [u8]| {
        let fits = phys.checked_add(buf.len() as u64).is_some_and(|end| end <= BOOT_MAPPED);
        if fits {
            // SAFETY: the range lies in the first GiB, mapped by the boot tables
            // at PHYS_OFFSET; firmware tables and RAM are plain bytes to read.
            unsafe { core::ptr::copy_nonoverlapping(phys_to_virt(phys), buf.as_mut_ptr(), buf.len()) };
        }
        fits
    };
    let dmar = crate::iommu::probe(&read_phys, si.rsdp_paddr);

    let master = build_kernel_tables(&mut frames, ram_end, kend);
    let mut k = KERNEL.lock();
    k.frames = frames;
    k.master_pml4 = Some(master);
    k.ram = ram.into_vec();
    setup_io_windows(&mut k, master);
    // SAFETY: the master tables map the kernel image, the direct map and the TSS
    // page exactly as the code running now expects.
    unsafe { cpu::write_cr3(master.phys()) };
    k.iommu = crate::iommu::glue::start(dmar.as_ref().ok(), master, &mut k.frames);
    // SAFETY: boot, interrupts off, the kernel's tables loaded.
    k.apic = unsafe { crate::arch::lapic::init(master, &mut k.frames) };
    match k.apic {
        Some(a) => crate::kinfo!(
            "local APIC {} at {:#x}: message-signalled interrupts on vectors {}..{}{}",
            a.id,
            a.phys,
            crate::arch::lines::MSI_BASE,
            crate::arch::lines::MSI_BASE as usize + crate::arch::lines::MSI_VECTORS,
            if k.iommu.as_ref().is_some_and(|i| i.unit.irt.is_some()) {
                ", each through a remapping entry only its device may use"
            } else {
                " (not remapped: any device could raise any of them)"
            }
        ),
        None => crate::kwarn!("no local APIC: devices keep their INTx lines (no MSI)"),
    }

    // SAFETY: boot, single CPU, interrupts off; the TSS page is mapped.
    unsafe {
        let kstack_top = (&raw const boot::BOOT_STACK) as u64 + boot::BOOT_STACK_SIZE as u64;
        gdt::init(kstack_top, syscall_entry as *const () as u64, (&raw mut IDLE_FPU) as u64);
        idt::init();
        pic::init(idt::IRQ_BASE as u8);
        pit::init(TIMER_HZ);
    }
    pic::unmask(0);
    crate::kinfo!(
        "{} MiB RAM, {} frames free, kernel heap {} MiB, boot archive {} KiB",
        (k.frames.total_count() * PAGE_SIZE) >> 20,
        k.frames.free_count(),
        HEAP_SIZE >> 20,
        module.size >> 10
    );

    setup_kip(&mut k);
    load_init(&mut k, archive);
    let frame = k.schedule().expect("init is ready to run");
    drop(k);
    // SAFETY: `frame` is init's thread frame, loaded as the current thread.
    unsafe { crate::arch::entry::resume_user_from(frame) }
}

/// The direct map of RAM, the kernel image in the top 2 GiB, the TSS page.
fn build_kernel_tables(frames: &mut FrameAllocator, ram_end: u64, kend: u64) -> paging::Table {
    let pml4 = paging::alloc_table(frames).expect("no memory for page tables");
    let data = paging::WRITABLE | paging::GLOBAL | paging::NO_EXECUTE;
    paging::map_kernel_huge(pml4, PHYS_OFFSET, 0, ram_end.next_multiple_of(2 << 20), data, frames);
    paging::map_kernel_huge(
        pml4,
        KERNEL_OFFSET,
        0,
        kend.next_multiple_of(2 << 20),
        paging::WRITABLE | paging::GLOBAL,
        frames,
    );
    let tss = frames.alloc().expect("no memory for the TSS");
    paging::map_kernel_page(pml4, gdt::TSS_PAGE, tss.addr(), data, frames);
    // Every top-level kernel slot needs its table now: spaces copy them once.
    pml4
}

/// The kernel information page: time, readable by every task.
fn setup_kip(k: &mut Kernel) {
    let f = k.frames.alloc().expect("no memory for the KIP");
    let tsc_per_ms = pit::calibrate_tsc_per_ms();
    // SAFETY: fresh frame through the direct map, written before any task exists.
    unsafe {
        phys_to_virt(f.addr()).write_bytes(0, PAGE_SIZE as usize);
        let kip = &mut *(phys_to_virt(f.addr()) as *mut l4_sys::kip::Kip);
        kip.magic = l4_sys::kip::MAGIC;
        kip.hz = TIMER_HZ as u64;
        kip.tsc_per_ms = tsc_per_ms;
    }
    k.kip = f.addr();
    crate::kinfo!("TSC: {} per ms", tsc_per_ms);
}

/// The all-ones page that ends every I/O bitmap, and the window that denies all
/// ports to spaces without grants.
fn setup_io_windows(k: &mut Kernel, master: paging::Table) {
    let ones = k.frames.alloc().expect("no memory");
    // SAFETY: fresh frame through the direct map.
    unsafe { phys_to_virt(ones.addr()).write_bytes(0xff, PAGE_SIZE as usize) };
    let [pdpt, pd, pt] = [0; 3].map(|_| paging::alloc_table(&mut k.frames).expect("no memory").phys());
    // SAFETY: fresh, zeroed table frames through the direct map.
    unsafe {
        for i in 0..3 {
            (phys_to_virt(pt) as *mut u64).add(i).write(ones.addr() | paging::PRESENT | paging::NO_EXECUTE);
        }
        (phys_to_virt(pd) as *mut u64).write(pt | paging::PRESENT | paging::WRITABLE);
        (phys_to_virt(pdpt) as *mut u64).write(pd | paging::PRESENT | paging::WRITABLE);
    }
    k.io_ones_page = ones.addr();
    k.io_deny_entry = pdpt | paging::PRESENT | paging::WRITABLE;
    paging::set_per_space_slot(master, k.io_deny_entry);
}

fn load_init(k: &mut Kernel, archive: (u64, u64)) {
    let log = k.objs.insert(Object::Log);
    k.log = Some(log);
    let icu = k.objs.insert(Object::Icu);
    let kernel = k.objs.insert(Object::Kernel);
    let iommu = k.objs.insert(Object::Iommu);
    let ports = k.objs.insert(Object::IoPorts(IoPorts { owner: None, base: 0, count: 65536 }));
    let iomem = k.objs.insert(Object::IoMem(IoMem { owner: None, base: 0, size: 1 << 46 }));
    let pages = (archive.1 - archive.0).div_ceil(PAGE_SIZE);
    let boot_ds = Dataspace { memory: Memory::Boot { phys: archive.0 }, pages, refs: 0, charged_to: None };
    let boot_ds = k.objs.insert(Object::Dataspace(Box::new(boot_ds)));

    let limits =
        TaskLimits { quota_pages: k.frames.total_count(), max_priority: 255, max_threads: 64, may_debug: true };
    let task = k.create_task(None, None, "init", None, limits, log).expect("cannot create init");
    for (slot, obj) in [
        (init_slot::ICU, icu),
        (init_slot::IO_PORTS, ports),
        (init_slot::IO_MEM, iomem),
        (init_slot::KERNEL, kernel),
        (init_slot::BOOT_ARCHIVE, boot_ds),
        (init_slot::IOMMU, iommu),
    ] {
        k.install_cap(task, slot, Cap { obj, rights: Rights::ALL }).expect("fresh table");
    }

    assert!(k.is_ram(archive.0, archive.1), "the boot archive is not in RAM");
    // SAFETY: the archive lies in RAM reserved for it, covered by the direct map.
    let bytes = unsafe { core::slice::from_raw_parts(phys_to_virt(archive.0), (archive.1 - archive.0) as usize) };
    let tar = tar_no_std::TarArchiveRef::new(bytes).expect("the boot archive is not a tar file");
    let image =
        tar.entries().find(|e| e.filename().as_str() == Ok("init")).expect("the boot archive has no `init`").data();
    let entry = load_elf(k, task, image);

    let stack = k.create_ram_ds(task, INIT_STACK / PAGE_SIZE, false).expect("no memory for init");
    k.map_ds(task, stack, 0, layout::STACK_TOP - INIT_STACK, INIT_STACK / PAGE_SIZE, Access::READ_WRITE)
        .expect("map stack");
    let heap = k.create_ram_ds(task, INIT_HEAP / PAGE_SIZE, false).expect("no memory for init");
    k.map_ds(task, heap, 0, layout::HEAP_BASE, INIT_HEAP / PAGE_SIZE, Access::READ_WRITE).expect("map heap");

    let env = k.create_ram_ds(task, 1, false).expect("no memory for init");
    let env_page = phys_to_virt(ds_phys(k, env, 0)) as *mut EnvPage;
    // SAFETY: the env dataspace's single frame is fresh and reached through the
    // direct map; EnvPage is plain data.
    let e = unsafe { &mut *env_page };
    e.init("init");
    let caps = [
        ("icu", init_slot::ICU),
        ("io-ports", init_slot::IO_PORTS),
        ("io-mem", init_slot::IO_MEM),
        ("kernel", init_slot::KERNEL),
        ("boot-archive", init_slot::BOOT_ARCHIVE),
        ("iommu", init_slot::IOMMU),
    ];
    for (name, slot) in caps {
        e.push(name, Kind::Cap, slot.0 as u64).expect("env page has room");
    }
    e.push("boot-archive.size", Kind::Value, archive.1 - archive.0).expect("room");
    e.push("heap.size", Kind::Value, INIT_HEAP).expect("room");
    e.push("stack.size", Kind::Value, INIT_STACK).expect("room");
    k.map_ds(task, env, 0, layout::ENV_PAGE, 1, Access::READ).expect("map env");

    let (thread, _) = k.create_thread(task, task).expect("cannot create init's thread");
    k.install_cap(task, slot::THREAD, Cap { obj: thread, rights: Rights::ALL }).expect("fresh table");
    k.start_thread(thread, entry, layout::STACK_TOP, INIT_PRIORITY, 0).expect("start init");
}

fn ds_phys(k: &Kernel, ds: ObjId, page: u64) -> u64 {
    match k.objs.get(ds) {
        Some(Object::Dataspace(d)) => d.page_phys(page),
        _ => unreachable!("not a dataspace"),
    }
}

/// Loads an ELF executable's PT_LOAD segments into fresh dataspaces of `task`.
fn load_elf(k: &mut Kernel, task: ObjId, image: &[u8]) -> u64 {
    use elf::endian::LittleEndian;
    let file = elf::ElfBytes::<LittleEndian>::minimal_parse(image).expect("init is not an ELF file");
    let segments = file.segments().expect("init has no program headers");
    for ph in segments.iter().filter(|p| p.p_type == elf::abi::PT_LOAD && p.p_memsz > 0) {
        let start = ph.p_vaddr & !(PAGE_SIZE - 1);
        let end = (ph.p_vaddr + ph.p_memsz).next_multiple_of(PAGE_SIZE);
        let pages = (end - start) / PAGE_SIZE;
        let ds = k.create_ram_ds(task, pages, false).expect("no memory for init's image");
        let data = &image[ph.p_offset as usize..(ph.p_offset + ph.p_filesz) as usize];
        let mut off = ph.p_vaddr - start;
        for chunk in data.chunks(PAGE_SIZE as usize) {
            // Chunks of a page may straddle two frames of the dataspace.
            let mut done = 0;
            while done < chunk.len() {
                let page = (off + done as u64) / PAGE_SIZE;
                let in_page = (off + done as u64) % PAGE_SIZE;
                let n = (PAGE_SIZE - in_page).min((chunk.len() - done) as u64) as usize;
                let dst = phys_to_virt(ds_phys(k, ds, page) + in_page);
                // SAFETY: `dst` lies within a fresh frame of the dataspace (n stays in
                // the page); the source is within the archive.
                unsafe { core::ptr::copy_nonoverlapping(chunk[done..].as_ptr(), dst, n) };
                done += n;
            }
            off += chunk.len() as u64;
        }
        let writable = ph.p_flags & elf::abi::PF_W != 0;
        let exec = ph.p_flags & elf::abi::PF_X != 0;
        k.map_ds(task, ds, 0, start, pages, Access { write: writable, execute: exec })
            .expect("init's segments overlap");
    }
    file.ehdr.e_entry
}

/// A small vector of physical ranges (collected before the heap exists: the
/// memory map is read before the heap is set up, so this uses a fixed array).
mod heapless_ranges {
    pub struct Ranges {
        items: [(u64, u64); 32],
        len: usize,
    }
    impl FromIterator<(u64, u64)> for Ranges {
        fn from_iter<I: IntoIterator<Item = (u64, u64)>>(iter: I) -> Ranges {
            let mut r = Ranges { items: [(0, 0); 32], len: 0 };
            for x in iter.into_iter().take(32) {
                r.items[r.len] = x;
                r.len += 1;
            }
            r
        }
    }
    impl Ranges {
        pub fn iter(&self) -> impl Iterator<Item = &(u64, u64)> {
            self.items[..self.len].iter()
        }
        pub fn into_vec(self) -> alloc::vec::Vec<(u64, u64)> {
            self.items[..self.len].to_vec()
        }
    }
}
