//! PVH entry: QEMU's `-kernel` finds the `Xen` ELF note, loads the segments at their
//! physical addresses and jumps to `pvh_entry` in 32-bit protected mode with paging
//! off and `%ebx` pointing at the `hvm_start_info` structure.
//!
//! The stub identity-maps the first GiB, maps it again at the direct-map offset and
//! in the top 2 GiB where the kernel is linked, enables long mode, SSE (the
//! precompiled `core` uses it) and NX, and calls `kernel_main(start_info_phys)` on
//! the boot stack. Everything after that is Rust.

use core::arch::global_asm;

/// Size of the stack `kernel_main` starts on; it stays the kernel stack of CPU 0.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
pub struct Stack(pub [u8; BOOT_STACK_SIZE]);

#[unsafe(no_mangle)]
pub static mut BOOT_STACK: Stack = Stack([0; BOOT_STACK_SIZE]);

global_asm!(
    r#"
    .section .note.Xen, "a"
    .p2align 2
    .long 4
    .long 4
    .long 18            /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .p2align 2
    .long pvh_entry

    .section .boot.data, "aw"
    .p2align 12
boot_pml4:      .fill 512, 8, 0
boot_pdpt_low:  .fill 512, 8, 0
boot_pdpt_high: .fill 512, 8, 0
boot_pd:        .fill 512, 8, 0
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00209a0000000000   /* 0x08: 64-bit kernel code */
    .quad 0x0000920000000000   /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .boot.text, "ax"
    .code32
    .global pvh_entry
pvh_entry:
    cli
    cld
    mov %ebx, %edi

    /* PD: the first GiB in 2 MiB pages. */
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt_low
    mov %eax, boot_pdpt_high + 510*8
    mov $boot_pdpt_low, %eax
    or $3, %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256*8
    mov $boot_pdpt_high, %eax
    or $3, %eax
    mov %eax, boot_pml4 + 511*8

    /* CR4: PAE, PGE, OSFXSR, OSXMMEXCPT */
    mov %cr4, %eax
    or $((1<<5)|(1<<7)|(1<<9)|(1<<10)), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* EFER: SCE, LME, NXE */
    mov $0xc0000080, %ecx
    rdmsr
    or $((1<<0)|(1<<8)|(1<<11)), %eax
    wrmsr
    /* CR0: PE, MP, PG; clear EM, TS */
    mov %cr0, %eax
    and $~((1<<2)|(1<<3)), %eax
    or $((1<<31)|(1<<1)|1), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $2f

    .code64
2:  mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $BOOT_STACK + {stack_size}, %rsp
    xor %ebp, %ebp
    movabs $kernel_main, %rax
    call *%rax
3:  hlt
    jmp 3b
    .text
"#,
    stack_size = const BOOT_STACK_SIZE,
    options(att_syntax)
);

/// `hvm_start_info`, as the PVH boot ABI defines it (version 1 adds the memory map).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StartInfo {
    pub magic: u32,
    pub version: u32,
    pub flags: u32,
    pub nr_modules: u32,
    pub modlist_paddr: u64,
    pub cmdline_paddr: u64,
    pub rsdp_paddr: u64,
    pub memmap_paddr: u64,
    pub memmap_entries: u32,
    pub reserved: u32,
}

pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// One `hvm_modlist_entry`: QEMU passes `-initrd` as module 0.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Module {
    pub paddr: u64,
    pub size: u64,
    pub cmdline_paddr: u64,
    pub reserved: u64,
}

/// One `hvm_memmap_table_entry` (E820 types: 1 is usable RAM).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MemMapEntry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    pub reserved: u32,
}

pub const E820_RAM: u32 = 1;
