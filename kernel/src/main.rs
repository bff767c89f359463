//! The bootable kernel ELF: links the `kernel` library, which holds everything
//! (the PVH entry point, `kernel_main`, the panic handler).
#![no_std]
#![no_main]

use kernel as _;
