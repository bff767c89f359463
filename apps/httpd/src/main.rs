//! httpd: the status page.
//!
//! `GET /` is an HTML page that refreshes itself; `GET /status.json` lists every
//! task as the kernel sees it (state, faults, memory) and every supervised
//! driver as the reincarnation server sees it (state, incarnation, restarts,
//! last fault). `POST /svc/<restart|kill|down|up|crash|crash-irq|hang-irq>/<name>`
//! passes an operator request to the reincarnation server (the host's
//! `resurgo svc` uses it). It is served through netd and a NIC driver, so the
//! page stays up while that very driver is killed and restarted.
//!
//! Authority: the write verbs exist only when the manifest grants httpd `svc`
//! verbs (the reincarnation server checks each call against those grants
//! again), and each needs the token httpd draws at boot and prints on the
//! console, in an `X-Resurgo-Token` header. A browser sends no such header
//! across origins without asking first (and httpd never says yes), and a
//! request whose `Origin` is not this page's is refused as well, so neither a
//! plain GET nor a cross-origin form changes anything. A client gets a few
//! seconds to send its request: one that connects and says nothing cannot
//! hold the page.
#![no_std]
#![no_main]

extern crate alloc;

mod json;
mod token;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use netapps::{Conn, Net};
use reincarnation::client::{self, CallError};
use reincarnation::proto::svc;

rt::entry!(main);

const PORT: u16 = 80;
const MAX_REQUEST: usize = 4096;
/// How long a client has to send its request line and headers: connections
/// are served one at a time, so a silent one holds the page this long (the
/// listener's backlog bounds how many can wait).
const REQUEST_MS: u64 = 1000;
/// The header that carries the operator token.
const TOKEN_HEADER: &str = "x-resurgo-token";

fn main() {
    let net = Net::open().unwrap_or_else(|e| netapps::fail("netd", e));
    // The operator token of this boot, when the manifest enables the write verbs.
    let token = rt::env::value("svc-operator").map(|_| token::draw());
    match &token {
        Some(t) => rt::info!(
            "svc token {} (POST /svc/VERB/NAME with the header X-Resurgo-Token; `resurgo svc --token`)",
            core::str::from_utf8(t).unwrap_or("?")
        ),
        None => rt::info!("no svc grants in the manifest: the status page only shows"),
    }
    let listener = net.listen(PORT, 4).unwrap_or_else(|e| netapps::fail("listen", e));
    rt::info!("status page on port {}", PORT);
    let mut silent = 0u64;
    loop {
        let mut conn = match net.accept(&listener) {
            Ok(c) => c,
            Err(e) => {
                rt::warn!("accept: {}", e);
                rt::time::sleep_ms(100);
                continue;
            }
        };
        let response = match read_request(&mut conn) {
            Ok(req) => route(&req, token.as_ref()),
            Err(RequestError::TimedOut) => {
                // Said nothing (or not enough) in time: not worth an answer.
                let _ = conn.abort();
                silent += 1;
                if silent <= 5 || silent.is_multiple_of(100) {
                    rt::warn!("dropped a connection that sent no request within {} ms ({} so far)", REQUEST_MS, silent);
                }
                continue;
            }
            Err(e) => response(400, "text/plain", format!("bad request: {}\n", e.as_str())),
        };
        let _ = conn.write_all(response.as_bytes());
        let _ = conn.close();
    }
}

/// A request line and the headers httpd looks at.
struct Request {
    method: String,
    path: String,
    /// `(lower-case name, value)`.
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

enum RequestError {
    TimedOut,
    TooLong,
    Closed,
    Malformed,
}

impl RequestError {
    fn as_str(&self) -> &'static str {
        match self {
            RequestError::TimedOut => "timed out",
            RequestError::TooLong => "headers too long",
            RequestError::Closed => "connection closed",
            RequestError::Malformed => "malformed request line or header",
        }
    }
}

/// Reads up to the end of the headers, within [`REQUEST_MS`].
fn read_request(conn: &mut Conn<'_>) -> Result<Request, RequestError> {
    let deadline = rt::time::ticks() + REQUEST_MS;
    let mut req = Vec::new();
    let mut buf = [0u8; 512];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && !req.windows(2).any(|w| w == b"\n\n") {
        let n = match conn.read_until(&mut buf, deadline) {
            Ok(0) | Err(netapps::NetError::Reset) => return Err(RequestError::Closed),
            Ok(n) => n,
            Err(netapps::NetError::TimedOut) => return Err(RequestError::TimedOut),
            Err(_) => return Err(RequestError::Closed),
        };
        if req.len() + n > MAX_REQUEST {
            return Err(RequestError::TooLong);
        }
        req.extend_from_slice(&buf[..n]);
    }
    let text = core::str::from_utf8(&req).map_err(|_| RequestError::Malformed)?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let mut parts = lines.next().ok_or(RequestError::Malformed)?.split(' ');
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) if !m.is_empty() && p.starts_with('/') => (m, p),
        _ => return Err(RequestError::Malformed),
    };
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(RequestError::Malformed)?;
        headers.push((name.trim().to_ascii_lowercase(), String::from(value.trim())));
    }
    Ok(Request { method: method.into(), path: path.into(), headers })
}

/// Why a write verb is refused before it reaches the reincarnation server.
fn refuse_write(req: &Request, token: Option<&[u8; 32]>) -> Option<&'static str> {
    let Some(token) = token else {
        return Some("the status page's write verbs are off: the manifest grants httpd no `svc` verbs");
    };
    // A browser names the page a request comes from; only this one may ask.
    if let Some(origin) = req.header("origin") {
        let host = req.header("host").unwrap_or("");
        let same = origin.strip_prefix("http://").is_some_and(|o| !host.is_empty() && o == host);
        if !same {
            return Some("cross-origin request refused");
        }
    }
    match req.header(TOKEN_HEADER) {
        Some(t) if token::equal(t.as_bytes(), token) => None,
        Some(_) => Some("wrong X-Resurgo-Token"),
        None => Some("no X-Resurgo-Token header (the token is on the guest's console)"),
    }
}

fn response(code: u16, kind: &str, body: String) -> String {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    format!(
        "HTTP/1.0 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn route(req: &Request, token: Option<&[u8; 32]>) -> String {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") | ("GET", "/index.html") => response(200, "text/html; charset=utf-8", page()),
        ("GET", "/status.json") => response(200, "application/json", status_json()),
        ("POST", p) if p.starts_with("/svc/") => {
            if let Some(why) = refuse_write(req, token) {
                rt::warn!("refused: POST {}: {}", p.split('?').next().unwrap_or(p), why);
                return response(
                    403,
                    "application/json",
                    format!("{{\"ok\":false,\"error\":{}}}\n", json::string(why)),
                );
            }
            let mut it = p["/svc/".len()..].splitn(2, '/');
            let (op, name) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            let Some((op, arg)) = svc::operation(op) else {
                return response(404, "text/plain", "unknown operation\n".into());
            };
            let Some(rs) = client::server() else {
                return response(404, "text/plain", "no reincarnation server\n".into());
            };
            let body = match client::command(rs, op, name, arg) {
                Ok(()) => format!("{{\"ok\":true,\"service\":{}}}\n", json::string(name)),
                Err(CallError::Server(svc::Error::NoService)) => {
                    format!("{{\"ok\":false,\"error\":\"no service {}\"}}\n", json::escape(name))
                }
                Err(CallError::Server(svc::Error::Denied)) => format!(
                    "{{\"ok\":false,\"error\":\"the manifest does not let httpd {} {}\"}}\n",
                    json::escape(op_name(p)),
                    json::escape(name)
                ),
                Err(CallError::Server(svc::Error::State)) => {
                    "{\"ok\":false,\"error\":\"refused in its current state\"}\n".into()
                }
                Err(e) => format!("{{\"ok\":false,\"error\":{}}}\n", json::string(&format!("{e}"))),
            };
            response(200, "application/json", body)
        }
        ("GET", _) => response(404, "text/plain", "not found\n".into()),
        _ => response(405, "text/plain", "method not allowed\n".into()),
    }
}

/// The verb of a `/svc/VERB/NAME` path.
fn op_name(path: &str) -> &str {
    path.trim_start_matches("/svc/").split('/').next().unwrap_or("")
}

rt::resurgo_only! {
    /// The kernel's figures and every task as the kernel sees it (the
    /// manifest's `kernel = true` grants the capability).
    fn kernel_json(out: &mut String) {
        use rt::obj::KernelCap;
        if let Some(k) = rt::env::cap("kernel").map(KernelCap) {
            if let Ok(s) = k.stats() {
                *out += &format!(
                    ",\"kernel\":{{\"free_frames\":{},\"total_frames\":{},\"ipc_denied\":{},\"tasks\":{},\"threads\":{}}}",
                    s.free_frames, s.total_frames, s.ipc_denied, s.tasks, s.threads
                );
            }
            *out += ",\"tasks\":[";
            let mut n = 0;
            while let Ok(Some(t)) = k.task_info(n) {
                if n > 0 {
                    out.push(',');
                }
                let fault = match t.last_event {
                    Some((cause, ip, addr)) => {
                        format!("{{\"cause\":\"{}\",\"ip\":\"{:#x}\",\"address\":\"{:#x}\"}}", cause.name(), ip, addr)
                    }
                    None => "null".into(),
                };
                *out += &format!(
                    "{{\"name\":{},\"state\":\"{}\",\"threads\":{},\"events\":{},\"pages_used\":{},\"last_event\":{}}}",
                    json::string(t.name()),
                    if t.running { "running" } else { "stopped" },
                    t.threads,
                    t.events_total,
                    t.used_pages,
                    fault
                );
                n += 1;
            }
            out.push(']');
        }
    }
}

rt::fiasco_only! {
    /// Fiasco.OC has no interface for the figures Resurgo's kernel gives
    /// (free frames, every task's state and pages): with the manifest's
    /// `kernel = true` (`kernel=1`) the page names the kernel and says so.
    fn kernel_json(out: &mut String) {
        if rt::env::value("kernel") == Some(1) {
            out.push_str(",\"kernel\":{\"name\":\"Fiasco.OC\",\"figures\":\"none: Fiasco.OC has no interface for them\"}");
        }
    }
}

fn status_json() -> String {
    let mut out = String::from("{");
    out += &format!("\"uptime_ms\":{}", rt::time::ticks());
    kernel_json(&mut out);
    if let Some(rs) = client::server() {
        out += ",\"drivers\":[";
        for (i, s) in client::list(rs).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out += &format!(
                "{{\"name\":{},\"state\":\"{}\",\"incarnation\":{},\"restarts\":{},\"last_fault\":{}}}",
                json::string(&s.name),
                s.state.name(),
                s.incarnation,
                s.restarts,
                if s.last_cause.is_empty() { "null".into() } else { json::string(&s.last_cause) }
            );
        }
        out.push(']');
    }
    out += "}\n";
    out
}

/// The HTML page: it fetches /status.json every second and draws two tables.
fn page() -> String {
    String::from(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Resurgo status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}
th{background:#f3f3f3}.running{color:#070}.held-down,.stopped{color:#b00}.backoff,.starting{color:#a60}
code{font-size:90%}
</style></head><body>
<h1>Resurgo</h1>
<p id="up"></p>
<h2>Drivers</h2>
<table id="drivers"><tr><th>driver</th><th>state</th><th>incarnation</th><th>restarts</th><th>last fault</th></tr></table>
<h2>Tasks</h2>
<table id="tasks"><tr><th>task</th><th>state</th><th>threads</th><th>events</th><th>pages</th><th>last event</th></tr></table>
<script>
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
function row(cells,cls){return '<tr>'+cells.map((c,i)=>'<td'+(i==1&&cls?' class="'+cls+'"':'')+'>'+c+'</td>').join('')+'</tr>'}
async function tick(){
 try{
  const s=await (await fetch('/status.json',{cache:'no-store'})).json();
  document.getElementById('up').textContent='up '+(s.uptime_ms/1000).toFixed(1)+' s'+(s.kernel&&s.kernel.free_frames!==undefined?', '+s.kernel.free_frames+' free frames':(s.kernel?', '+s.kernel.name:''));
  let d='<tr><th>driver</th><th>state</th><th>incarnation</th><th>restarts</th><th>last fault</th></tr>';
  for(const x of (s.drivers||[]))d+=row([esc(x.name),x.state,x.incarnation,x.restarts,'<code>'+esc(x.last_fault||'')+'</code>'],x.state);
  document.getElementById('drivers').innerHTML=d;
  let t='<tr><th>task</th><th>state</th><th>threads</th><th>events</th><th>pages</th><th>last event</th></tr>';
  for(const x of (s.tasks||[]))t+=row([esc(x.name),x.state,x.threads,x.events,x.pages_used,x.last_event?esc(x.last_event.cause+' at '+x.last_event.ip):''],x.state);
  document.getElementById('tasks').innerHTML=t;
 }catch(e){document.getElementById('up').textContent='(no answer: '+e+')'}
}
tick();setInterval(tick,1000);
</script></body></html>
"#,
    )
}
