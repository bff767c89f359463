//! httpd: the status page.
//!
//! `GET /` is an HTML page that refreshes itself; `GET /status.json` lists every
//! task as the kernel sees it (state, faults, memory) and every supervised
//! driver as the reincarnation server sees it (state, incarnation, restarts,
//! last fault). `POST /svc/<restart|kill|down|up|crash|crash-irq|hang-irq>/<name>`
//! passes an operator request to the reincarnation server (the host's
//! `resurgo svc` uses it). It is served through netd and a NIC driver, so the
//! page stays up while that very driver is killed and restarted.
#![no_std]
#![no_main]

extern crate alloc;

mod json;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use netapps::{Conn, Net};
use reincarnation::client;
use reincarnation::proto::svc;
use rt::obj::KernelCap;

rt::entry!(main);

const PORT: u16 = 80;
const MAX_REQUEST: usize = 4096;

fn main() {
    let net = Net::open().unwrap_or_else(|e| netapps::fail("netd", e));
    let listener = net.listen(PORT, 4).unwrap_or_else(|e| netapps::fail("listen", e));
    rt::info!("status page on port {}", PORT);
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
            Some((method, path)) => route(&method, &path),
            None => response(400, "text/plain", "bad request\n".into()),
        };
        let _ = conn.write_all(response.as_bytes());
        let _ = conn.close();
    }
}

/// Reads up to the end of the headers; returns the method and path.
fn read_request(conn: &mut Conn<'_>) -> Option<(String, String)> {
    let mut req = Vec::new();
    let mut buf = [0u8; 512];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && !req.windows(2).any(|w| w == b"\n\n") {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 || req.len() + n > MAX_REQUEST {
            return None;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = req.split(|&b| b == b'\n').next()?;
    let line = core::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next()?, parts.next()?);
    Some((method.into(), path.into()))
}

fn response(code: u16, kind: &str, body: String) -> String {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    format!(
        "HTTP/1.0 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn route(method: &str, path: &str) -> String {
    match (method, path) {
        ("GET", "/") | ("GET", "/index.html") => response(200, "text/html; charset=utf-8", page()),
        ("GET", "/status.json") => response(200, "application/json", status_json()),
        ("POST", p) if p.starts_with("/svc/") => {
            let mut it = p["/svc/".len()..].splitn(2, '/');
            let (op, name) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            let Some((op, arg)) = svc::operation(op) else {
                return response(404, "text/plain", "unknown operation\n".into());
            };
            let Some(rs) = rt::env::cap("reincarnation.svc") else {
                return response(404, "text/plain", "no reincarnation server\n".into());
            };
            let body = match client::command(rs, op, name, arg) {
                Ok(()) => format!("{{\"ok\":true,\"service\":{}}}\n", json::string(name)),
                Err(svc::ERR_UNKNOWN) => format!("{{\"ok\":false,\"error\":\"no service {}\"}}\n", json::escape(name)),
                Err(_) => "{\"ok\":false,\"error\":\"refused in its current state\"}\n".into(),
            };
            response(200, "application/json", body)
        }
        ("GET", _) => response(404, "text/plain", "not found\n".into()),
        _ => response(405, "text/plain", "method not allowed\n".into()),
    }
}

fn status_json() -> String {
    let mut out = String::from("{");
    out += &format!("\"uptime_ms\":{}", rt::time::ticks());
    if let Some(k) = rt::env::cap("kernel").map(KernelCap) {
        if let Ok(s) = k.stats() {
            out += &format!(
                ",\"kernel\":{{\"free_frames\":{},\"total_frames\":{},\"ipc_denied\":{},\"tasks\":{},\"threads\":{}}}",
                s.free_frames, s.total_frames, s.ipc_denied, s.tasks, s.threads
            );
        }
        out += ",\"tasks\":[";
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
            out += &format!(
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
    if let Some(rs) = rt::env::cap("reincarnation.svc") {
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
  document.getElementById('up').textContent='up '+(s.uptime_ms/1000).toFixed(1)+' s'+(s.kernel?', '+s.kernel.free_frames+' free frames':'');
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
