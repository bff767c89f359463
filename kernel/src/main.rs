//! The bootable kernel ELF: links the `kernel` library, which holds everything
//! else (the PVH entry point, `kernel_main`).
#![no_std]
#![no_main]

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kernel::panic_exit(info)
}
