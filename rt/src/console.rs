//! The operator's console input, the same interface on both kernels. The
//! kernel keeps the output side (every task logs through it); a console task
//! reads what is typed.
//!
//! | | Resurgo's kernel | Fiasco.OC |
//! |---|---|---|
//! | the console | COM1's receive side: its ports and interrupt line 4, which the manifest grants (`ports`, `irqs`; the capability `irq.4`) | the kernel's log object (Fiasco's Vlog, which the serial line's input reaches), handed over as `console` |
//! | input arrives | COM1's receive interrupt | an IRQ object bound to the log object |
//! | read | the UART's receive buffer, while it has data | the log object's read operation, with its echo and line mode off |

#[cfg(not(feature = "fiasco"))]
pub use crate::console_uart::Console;
#[cfg(feature = "fiasco")]
pub use crate::platform::fiasco::console::Console;
