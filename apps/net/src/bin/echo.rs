//! echo: a TCP echo server on port 7 (RFC 862). Every byte a client sends
//! comes back; connections are served one after the other.
#![no_std]
#![no_main]

use netapps::{Ip, Net};

rt::entry!(main);

const PORT: u16 = 7;

fn main() {
    let net = match Net::open() {
        Ok(n) => n,
        Err(e) => netapps::fail("netd", e),
    };
    let listener = match net.listen(PORT, 2) {
        Ok(l) => l,
        Err(e) => netapps::fail("listen", e),
    };
    rt::info!("listening on {}", PORT);
    let mut buf = [0u8; 4096];
    loop {
        let mut conn = match net.accept(&listener) {
            Ok(c) => c,
            Err(e) => {
                rt::warn!("accept: {}", e);
                rt::time::sleep_ms(100);
                continue;
            }
        };
        let (ip, port) = conn.remote;
        let mut total = 0u64;
        let result = loop {
            match conn.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    total += n as u64;
                    if let Err(e) = conn.write_all(&buf[..n]) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        match result {
            Ok(()) => rt::info!("{}:{} echoed {} bytes", Ip(ip), port, total),
            Err(e) => rt::warn!("{}:{} after {} bytes: {}", Ip(ip), port, total, e),
        }
        let _ = conn.close();
    }
}
