//! Host ports a guest forwards: free before QEMU starts, and when one is
//! not, the process that holds it, by name (from `/proc/net/tcp` and the
//! socket links in `/proc/PID/fd`), so that a QEMU left from an earlier run
//! is named instead of failing later in a confusing way.

use anyhow::{Result, bail};
use std::fs;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

/// A process holding a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its command line, arguments joined by spaces.
    pub command: String,
}

/// `n` host ports on 127.0.0.1 that are free now, all distinct: each is held
/// until all are picked (ports picked one after the other can repeat, since
/// the kernel may hand out a port again as soon as it is let go).
pub fn free(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| anyhow::anyhow!("no free port on 127.0.0.1: {e}"))?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Whether a boot failed only because a forwarded host port was taken
/// between picking it free and QEMU binding it (the ephemeral range is shared
/// with every outgoing connection of the host): picking again is the cure.
pub fn is_race(error: &str) -> bool {
    error.contains("host forwarding") || error.contains("is in use by a process not visible from here")
}

/// Fails when a forwarded host port (on 127.0.0.1) cannot be bound, naming
/// the process that holds it. `ports` are `(host port, what it forwards to)`.
pub fn check_free(ports: &[(u16, String)]) -> Result<()> {
    let mut lines = Vec::new();
    for (port, what) in ports {
        if TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, *port)).is_ok() {
            continue;
        }
        let line = match holder(*port) {
            Some(h) => {
                let qemu = h.command.contains("qemu-system");
                let hint = if qemu { ": a guest from an earlier `resurgo up` or bench is still running" } else { "" };
                format!(
                    "error: host port 127.0.0.1:{port} ({what}) is held by process {} `{}`{hint}; stop it (`kill {}`) and try again",
                    h.pid,
                    shorten(&h.command, 100),
                    h.pid
                )
            }
            None => format!("error: host port 127.0.0.1:{port} ({what}) is in use by a process not visible from here"),
        };
        lines.push(line);
    }
    if !lines.is_empty() {
        bail!("{}", lines.join("\n"));
    }
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}...", s.chars().take(max).collect::<String>()) }
}

/// The socket inodes listening on TCP `port`, from the text of
/// `/proc/net/tcp` or `/proc/net/tcp6`.
pub fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?.parse::<u64>().ok()?;
            let local_port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            // 0A: TCP_LISTEN.
            (local_port == port && *state == "0A").then_some(inode)
        })
        .collect()
}

/// The process that holds a listening socket on `port`, if this user may see it.
pub fn holder(port: u16) -> Option<Holder> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let links: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for proc_entry in fs::read_dir("/proc").ok()?.filter_map(Result::ok) {
        let Ok(pid) = proc_entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(fds) = fs::read_dir(proc_entry.path().join("fd")) else { continue };
        let holds = fds.filter_map(Result::ok).any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|target| links.iter().any(|l| target.as_os_str() == l.as_str()))
        });
        if holds {
            let raw = fs::read(proc_entry.path().join("cmdline")).unwrap_or_default();
            let command = raw
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            return Some(Holder { pid, command });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_picked_together_are_distinct_and_free() {
        let ports = free(16).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 16, "{ports:?}");
        for p in ports {
            TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, p)).expect("free after picking");
        }
    }

    /// Two lines of a real `/proc/net/tcp`: 127.0.0.1:5555 listening, and a
    /// connection from port 5555 (not listening).
    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 635 1 0000000018c58adc 100 0 0 10 0\n\
   1: 0100007F:15B3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000018c58adc 100 0 0 10 0\n";

    #[test]
    fn listening_sockets_are_found_by_port() {
        assert_eq!(listening_inodes(TABLE, 5555), [635]);
        assert!(listening_inodes(TABLE, 5556).is_empty());
        assert!(listening_inodes("garbage\nnot a table\n", 5555).is_empty());
    }

    #[test]
    fn a_held_port_names_its_holder() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let h = holder(port).expect("this test process holds the port");
        assert_eq!(h.pid, std::process::id());
        let e = check_free(&[(port, "the guest's echo port 7".into())]).unwrap_err().to_string();
        assert!(e.contains(&format!("127.0.0.1:{port}")) && e.contains(&format!("process {}", h.pid)), "{e}");
        drop(listener);
        check_free(&[(port, "free now".into())]).unwrap();
    }
}
