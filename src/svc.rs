//! `resurgo svc`: the reincarnation server's services of a running guest, from
//! the host. It talks to the guest's status page (httpd, forwarded to
//! 127.0.0.1:8080 by `resurgo up --nic ...`): `GET /status.json` to list,
//! `POST /svc/<op>/<name>` to change. Plain HTTP/1.0 over a TCP stream.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The host port `resurgo up` forwards to the guest's status page.
pub const DEFAULT_PORT: u16 = 8080;

/// One HTTP request; returns the status code and the body.
fn request(port: u16, method: &str, path: &str) -> Result<(u16, String)> {
    let addr = format!("127.0.0.1:{port}");
    let mut s = TcpStream::connect_timeout(&addr.parse()?, Duration::from_secs(5))
        .with_context(|| format!("no guest status page at {addr}: is a guest running (`resurgo up --nic rtl8139`)?"))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).context("the guest's status page did not answer")?;
    parse_response(&String::from_utf8_lossy(&raw))
}

/// Splits an HTTP/1.x response into status code and body.
pub fn parse_response(raw: &str) -> Result<(u16, String)> {
    let (head, body) =
        raw.split_once("\r\n\r\n").or_else(|| raw.split_once("\n\n")).context("a response without headers")?;
    let code = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .context("a response without a status line")?;
    Ok((code, body.to_string()))
}

/// The drivers in a status document, as table rows.
pub fn table(status: &serde_json::Value) -> String {
    let mut out = format!("{:<16} {:<10} {:>11} {:>8}  last fault\n", "driver", "state", "incarnation", "restarts");
    for d in status["drivers"].as_array().into_iter().flatten() {
        out += &format!(
            "{:<16} {:<10} {:>11} {:>8}  {}\n",
            d["name"].as_str().unwrap_or("?"),
            d["state"].as_str().unwrap_or("?"),
            d["incarnation"],
            d["restarts"],
            d["last_fault"].as_str().unwrap_or("")
        );
    }
    out
}

pub fn list(port: u16, json: bool) -> Result<()> {
    let (code, body) = request(port, "GET", "/status.json")?;
    if code != 200 {
        bail!("the guest answered {code}: {}", body.trim());
    }
    let status: serde_json::Value = serde_json::from_str(&body).context("the guest's status is not JSON")?;
    if json {
        println!("{}", body.trim());
    } else {
        print!("{}", table(&status));
    }
    Ok(())
}

/// `op` is one of restart, kill, down, up, crash-irq, hang-irq, crash.
pub fn command(port: u16, op: &str, name: &str) -> Result<()> {
    let (code, body) = request(port, "POST", &format!("/svc/{op}/{name}"))?;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    if code != 200 || answer["ok"] != true {
        bail!("svc {op} {name}: {}", answer["error"].as_str().unwrap_or(body.trim()));
    }
    println!("svc {op} {name}: done");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_and_tables() {
        let raw = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"drivers\":[{\"name\":\"eth-8139cp\",\"state\":\"running\",\"incarnation\":3,\"restarts\":2,\"last_fault\":\"killed by operator\"}]}\n";
        let (code, body) = parse_response(raw).unwrap();
        assert_eq!(code, 200);
        let t = table(&serde_json::from_str(&body).unwrap());
        assert!(t.lines().nth(1).unwrap().starts_with("eth-8139cp       running"), "{t}");
        assert!(t.contains("killed by operator"));
        assert!(parse_response("garbage").is_err());
    }
}
