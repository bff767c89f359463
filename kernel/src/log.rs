//! The kernel log on COM1, with levels. Tasks write through the Log object and
//! appear with their name as the prefix.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    pub fn from_raw(raw: u64) -> Level {
        match raw {
            0 | 1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            _ => Level::Debug,
        }
    }
    fn tag(self) -> &'static str {
        match self {
            Level::Error => "ERROR ",
            Level::Warn => "WARN ",
            Level::Info => "",
            Level::Debug => "debug ",
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        #[cfg(not(test))]
        crate::arch::serial::write_str(s);
        #[cfg(test)]
        let _ = s;
        Ok(())
    }
}

/// Writes one line: `[who] LEVEL message`.
pub fn line(level: Level, who: &str, args: fmt::Arguments) {
    if enabled(level) {
        let _ = writeln!(Console, "[{}] {}{}", who, level.tag(), args);
    }
}

#[macro_export]
macro_rules! kerror { ($($a:tt)*) => { $crate::log::line($crate::log::Level::Error, "kernel", format_args!($($a)*)) } }
#[macro_export]
macro_rules! kwarn { ($($a:tt)*) => { $crate::log::line($crate::log::Level::Warn, "kernel", format_args!($($a)*)) } }
#[macro_export]
macro_rules! kinfo { ($($a:tt)*) => { $crate::log::line($crate::log::Level::Info, "kernel", format_args!($($a)*)) } }
#[macro_export]
macro_rules! kdebug { ($($a:tt)*) => { $crate::log::line($crate::log::Level::Debug, "kernel", format_args!($($a)*)) } }
