//! A client of QEMU's machine protocol (QMP) on a Unix socket: the benches
//! stop and continue the virtual machine through it.

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
        writeln!(self.writer, "{}", json!({ "execute": command })).context("writing to QEMU's QMP socket")?;
        loop {
            let msg = self.message()?;
            if msg.get("return").is_some() {
                return Ok(());
            }
            if let Some(error) = msg.get("error") {
                bail!("QMP `{command}` failed: {error}");
            }
        }
    }

    pub fn stop(&mut self) -> Result<()> {
        self.execute("stop")
    }

    pub fn cont(&mut self) -> Result<()> {
        self.execute("cont")
    }
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
