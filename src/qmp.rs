//! A client of QEMU's machine protocol (QMP) on a Unix socket: the benches
//! stop and continue the virtual machine through it, and read how often its
//! TCG translator flushed the guest's TLB.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A client of QEMU's machine protocol (QMP) on a Unix socket: enough to stop
/// and continue the virtual machine. A stopped machine's virtual clock stands
/// still too, so the guest sees no jump in time when it continues.
pub struct Qmp {
    path: PathBuf,
    writer: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Qmp {
    /// The socket path for one guest, named by `label`: in the temporary
    /// folder, unique per process.
    pub fn socket_path(label: &str) -> PathBuf {
        std::env::temp_dir().join(format!("resurgo-{}-{label}.qmp", std::process::id()))
    }

    /// QEMU's arguments for a QMP server on `path`.
    pub fn qemu_args(path: &Path) -> Vec<String> {
        vec!["-qmp".into(), format!("unix:{},server=on,wait=off", path.display())]
    }

    /// Connects (QEMU creates the socket as it starts) and leaves capability
    /// negotiation mode.
    pub fn connect(path: &Path) -> Result<Qmp> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(anyhow!("cannot connect to QEMU's QMP socket {}: {e}", path.display())),
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut qmp = Qmp { path: path.to_path_buf(), writer: stream.try_clone()?, reader: BufReader::new(stream) };
        let greeting = qmp.message()?;
        if greeting.get("QMP").is_none() {
            bail!("QEMU's QMP socket did not greet: {greeting}");
        }
        qmp.execute("qmp_capabilities")?;
        Ok(qmp)
    }

    /// The next message (one JSON object a line).
    fn message(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).context("reading from QEMU's QMP socket")? == 0 {
            bail!("QEMU closed its QMP socket");
        }
        serde_json::from_str(&line).with_context(|| format!("QMP sent something that is not JSON: {line:?}"))
    }

    /// Runs a command and waits for its answer (events in between are skipped).
    pub fn execute(&mut self, command: &str) -> Result<()> {
        self.query(command).map(drop)
    }

    /// Runs a command and returns what it answered (events in between are skipped).
    pub fn query(&mut self, command: &str) -> Result<Value> {
        writeln!(self.writer, "{}", json!({ "execute": command })).context("writing to QEMU's QMP socket")?;
        loop {
            let mut msg = self.message()?;
            if let Some(answer) = msg.get_mut("return") {
                return Ok(answer.take());
            }
            if let Some(error) = msg.get("error") {
                bail!("QMP `{command}` failed: {error}");
            }
        }
    }

    /// How many times TCG has flushed the guest's TLB since QEMU started
    /// (`x-query-jit`: its full and partial flushes; the elided ones did
    /// nothing). Every write of CR3 without PCIDs flushes it, so a kernel
    /// that switches page tables at each entry and exit pays a refill of
    /// every page touched after each: [`crate::bench_net`] reports this per
    /// MiB moved.
    pub fn tlb_flushes(&mut self) -> Result<u64> {
        let answer = self.query("x-query-jit")?;
        let text = answer.get("human-readable-text").and_then(Value::as_str).unwrap_or_default();
        tlb_flushes_of(text).ok_or_else(|| anyhow!("QEMU's `x-query-jit` did not count TLB flushes: {text:?}"))
    }

    pub fn stop(&mut self) -> Result<()> {
        self.execute("stop")
    }

    pub fn cont(&mut self) -> Result<()> {
        self.execute("cont")
    }
}

/// The sum of the full and partial TLB flushes in `x-query-jit`'s text.
fn tlb_flushes_of(text: &str) -> Option<u64> {
    let count = |label: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(label)).and_then(|rest| rest.trim().parse::<u64>().ok())
    };
    Some(count("TLB full flushes")? + count("TLB partial flushes")?)
}

impl Drop for Qmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlb_flushes_are_read_from_the_jit_statistics() {
        let text = "TB count            74124\ncross page TB count 209 (0%)\nTB flush count      0\n\
                    TLB full flushes    3\nTLB partial flushes 18708301\nTLB elided flushes  41322939\n";
        assert_eq!(tlb_flushes_of(text), Some(18_708_304));
        assert_eq!(tlb_flushes_of("TB count 1\nTLB full flushes 3\n"), None, "no partial count");
        assert_eq!(tlb_flushes_of("TLB full flushes x\nTLB partial flushes 1\n"), None, "not a number");
    }

    #[test]
    fn qmp_negotiates_skips_events_and_reports_errors() {
        use std::os::unix::net::UnixListener;
        let path = std::env::temp_dir().join(format!("resurgo-qmp-test-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut out = conn;
            let mut commands = Vec::new();
            writeln!(out, r#"{{"QMP": {{"version": {{}}, "capabilities": []}}}}"#).unwrap();
            let answers = [
                r#"{"return": {}}"#.to_string(),
                format!("{}\n{}", r#"{"event": "STOP", "timestamp": {}}"#, r#"{"return": {}}"#),
                r#"{"error": {"class": "GenericError", "desc": "no"}}"#.to_string(),
            ];
            for answer in answers {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                commands.push(serde_json::from_str::<Value>(&line).unwrap()["execute"].as_str().unwrap().to_string());
                writeln!(out, "{answer}").unwrap();
            }
            commands
        });
        let mut qmp = Qmp::connect(&path).unwrap();
        qmp.stop().unwrap();
        let err = qmp.cont().unwrap_err().to_string();
        assert!(err.contains("`cont` failed") && err.contains("GenericError"), "{err}");
        assert_eq!(server.join().unwrap(), ["qmp_capabilities", "stop", "cont"]);
        drop(qmp);
        assert!(!path.exists(), "the socket file is removed");
        assert_eq!(Qmp::qemu_args(Path::new("/tmp/q.sock")), ["-qmp", "unix:/tmp/q.sock,server=on,wait=off"]);
    }
}
