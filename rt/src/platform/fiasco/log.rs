//! Logging on Fiasco.OC: one vcon write to the log capability ned gave the
//! task per line (ned prefixes the task's name).

use l4_sys::fiasco::{Cap, msg, syscall};
use l4_sys::proto::log::{LEVEL_ERROR, LEVEL_WARN};

/// Writes one line at a level (see `l4_sys::proto::log`).
pub fn write(level: u64, text: &str) {
    let prefix: &[u8] = match level {
        LEVEL_ERROR => b"ERROR ",
        LEVEL_WARN => b"WARN ",
        _ => b"",
    };
    let mut line = [0u8; msg::VCON_WRITE_MAX];
    let body = text.len().min(line.len() - prefix.len() - 1);
    line[..prefix.len()].copy_from_slice(prefix);
    line[prefix.len()..prefix.len() + body].copy_from_slice(&text.as_bytes()[..body]);
    let n = prefix.len() + body;
    line[n] = b'\n';
    let log = Cap(super::l4re_env().log);
    if !log.is_valid() {
        return;
    }
    let (tag, _) = super::ipc::compose(|m| msg::vcon_write(m, &line[..n + 1]));
    let _ = syscall::send(log, tag);
}
