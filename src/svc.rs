//! `resurgo svc`: the reincarnation server's services of a running guest, from
//! the host. It talks to the guest's status page (httpd, forwarded to
//! 127.0.0.1:8080 by `resurgo up --nic ...`): `GET /status.json` to list,
//! `POST /svc/<op>/<name>` to change. Plain HTTP/1.0 over a TCP stream.
//!
//! A change needs the operator token the guest's httpd draws at boot and
//! prints on the console (`[httpd] svc token 0123...`): `--token`, `--console
//! FILE` (a saved console, whose last token is taken), or `$RESURGO_SVC_TOKEN`. It travels in the `X-Resurgo-Token` header, which no
//! browser sends on its own across origins.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The host port `resurgo up` forwards to the guest's status page.
pub const DEFAULT_PORT: u16 = 8080;
/// Where the token comes from when `--token` is not given.
pub const TOKEN_ENV: &str = "RESURGO_SVC_TOKEN";
/// The request header that carries it.
pub const TOKEN_HEADER: &str = "X-Resurgo-Token";
/// What the guest's console says at boot, before the token.
pub const TOKEN_LINE: &str = "svc token ";

/// The operator token: `given`, else the last one in the saved console
/// output `console` (`resurgo up --headless ... | tee FILE`), else
/// `$RESURGO_SVC_TOKEN`.
pub fn token(given: Option<String>, console: Option<&std::path::Path>) -> Result<String> {
    let from_console = match console {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the console output {}", path.display()))?;
            Some(token_in_console(text.lines()).with_context(|| {
                format!("{} has no `[httpd] {TOKEN_LINE}...` line (is it a console of this boot?)", path.display())
            })?)
        }
    };
    let t = given.or(from_console).or_else(|| std::env::var(TOKEN_ENV).ok()).unwrap_or_default();
    let t = t.trim();
    if t.is_empty() {
        bail!(
            "a change needs the guest's operator token: its console printed `[httpd] {TOKEN_LINE}...` at boot; \
             pass it with --token, --console FILE (the saved console) or {TOKEN_ENV}"
        );
    }
    if !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("the token `{t}` is not what the guest prints (letters and digits)");
    }
    Ok(t.to_string())
}

/// The token in a guest's console output (the last one, if it booted twice),
/// Resurgo's kernel's or Fiasco.OC's (`httpd   | ...`).
pub fn token_in_console<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let httpd = [String::from("httpd")];
    lines
        .into_iter()
        .map(|l| crate::fiasco::resurgo_style(l, &httpd, &[]))
        .filter(|l| l.contains("[httpd]"))
        .filter_map(|l| l.split(TOKEN_LINE).nth(1)?.split_whitespace().next().map(str::to_string))
        .last()
}

/// One HTTP request with extra header lines; returns the status code and the body.
pub fn request_with(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
    let addr = format!("127.0.0.1:{port}");
    let mut s = TcpStream::connect_timeout(&addr.parse()?, Duration::from_secs(5))
        .with_context(|| format!("no guest status page at {addr}: is a guest running (`resurgo up --nic rtl8139`)?"))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    write!(s, "{head}\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).context("the guest's status page did not answer")?;
    parse_response(&String::from_utf8_lossy(&raw))
}

fn request(port: u16, method: &str, path: &str) -> Result<(u16, String)> {
    request_with(port, method, path, &[])
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
pub fn command(port: u16, token: &str, op: &str, name: &str) -> Result<()> {
    let (code, body) = request_with(port, "POST", &format!("/svc/{op}/{name}"), &[(TOKEN_HEADER, token)])?;
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

    #[test]
    fn tokens_from_the_console_and_the_command_line() {
        let console = [
            "[httpd] svc token 0123456789abcdef0123456789abcdef (POST /svc/VERB/NAME with the header X-Resurgo-Token)",
            "[shell] svc token deadbeef",
            "[httpd] status page on port 80",
        ];
        assert_eq!(token_in_console(console).as_deref(), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(token_in_console(["[httpd] status page on port 80"]), None);
        // Fiasco.OC's console: ned's tag and colour.
        let fiasco = ["\u{1b}[37mhttpd   | svc token 00112233445566778899aabbccddeeff (POST ...)\u{1b}[0m"];
        assert_eq!(token_in_console(fiasco).as_deref(), Some("00112233445566778899aabbccddeeff"));
        assert_eq!(token(Some(" abc123 ".into()), None).unwrap(), "abc123");
        assert!(token(Some("a b\r\nX-Evil: 1".into()), None).is_err(), "a token cannot smuggle headers");
        let saved = std::env::temp_dir().join(format!("resurgo-console-{}.log", std::process::id()));
        std::fs::write(&saved, console.join("\n")).unwrap();
        assert_eq!(token(None, Some(&saved)).unwrap(), "0123456789abcdef0123456789abcdef");
        std::fs::write(&saved, "[httpd] status page on port 80\n").unwrap();
        assert!(token(None, Some(&saved)).unwrap_err().to_string().contains("has no `[httpd] svc token"));
        std::fs::remove_file(&saved).unwrap();
    }
}
