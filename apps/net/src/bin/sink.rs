//! sink: the far end of throughput measurements.
//!
//! Port 9 (discard): counts each connection's bytes and their SHA-256 and, when
//! the peer closes, prints `received N bytes sha256 HEX in MS ms`. Port 19
//! (source, chargen-like): reads an 8-byte little-endian count, sends that many
//! bytes of the pattern `n % 251` for byte `n`, then closes. One connection at
//! a time; a connection to the other port waits in netd meanwhile.
#![no_std]
#![no_main]

use netapps::{Conn, Ip, Net, NetError};
use sha2::{Digest, Sha256};

rt::entry!(main);

const SINK_PORT: u16 = 9;
const SOURCE_PORT: u16 = 19;
/// Repeats of the 251-byte pattern in the send buffer: any offset into the
/// stream starts at `n % 251` in it, with at least 15 KiB after it.
const PATTERN_REPEATS: usize = 65;

fn main() {
    let net = Net::open().unwrap_or_else(|e| netapps::fail("netd", e));
    let sink = net.listen(SINK_PORT, 2).unwrap_or_else(|e| netapps::fail("listen 9", e));
    let source = net.listen(SOURCE_PORT, 2).unwrap_or_else(|e| netapps::fail("listen 19", e));
    rt::info!("listening on {} (and source on {})", SINK_PORT, SOURCE_PORT);
    let mut pattern = [0u8; 251 * PATTERN_REPEATS];
    for (i, b) in pattern.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    loop {
        let mut idle = true;
        match net.try_accept(&sink) {
            Ok(Some(c)) => {
                idle = false;
                receive(c);
            }
            Ok(None) => {}
            Err(e) => rt::warn!("accept on {}: {}", SINK_PORT, e),
        }
        match net.try_accept(&source) {
            Ok(Some(c)) => {
                idle = false;
                send(c, &pattern);
            }
            Ok(None) => {}
            Err(e) => rt::warn!("accept on {}: {}", SOURCE_PORT, e),
        }
        if idle {
            net.wait();
        }
    }
}

fn receive(mut conn: Conn<'_>) {
    let t0 = rt::time::ticks();
    let mut hash = Sha256::new();
    let mut total = 0u64;
    let result = loop {
        match conn.read_with(|bytes| {
            hash.update(bytes);
            bytes.len()
        }) {
            Ok(0) => break Ok(()),
            Ok(n) => total += n as u64,
            Err(e) => break Err(e),
        }
    };
    let ms = rt::time::ticks() - t0;
    let digest = hash.finalize();
    let mut hex = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        hex[2 * i] = HEX[(b >> 4) as usize];
        hex[2 * i + 1] = HEX[(b & 15) as usize];
    }
    let hex = core::str::from_utf8(&hex).unwrap_or("?");
    match result {
        Ok(()) => rt::info!("received {} bytes sha256 {} in {} ms", total, hex, ms),
        Err(e) => rt::warn!("{}:{}: {} after {} bytes in {} ms", Ip(conn.remote.0), conn.remote.1, e, total, ms),
    }
    let _ = conn.close();
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn send(mut conn: Conn<'_>, pattern: &[u8]) {
    let t0 = rt::time::ticks();
    let mut count = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match conn.read(&mut count[got..]) {
            Ok(0) => {
                rt::warn!("source: the peer closed before sending the byte count");
                let _ = conn.close();
                return;
            }
            Ok(n) => got += n,
            Err(e) => {
                rt::warn!("source: {}", e);
                return;
            }
        }
    }
    let want = u64::from_le_bytes(count);
    let mut sent = 0u64;
    let result: Result<(), NetError> = loop {
        if sent == want {
            break Ok(());
        }
        let at = (sent % 251) as usize;
        let n = ((want - sent) as usize).min(pattern.len() - at);
        match conn.write(&pattern[at..at + n]) {
            Ok(k) => sent += k as u64,
            Err(e) => break Err(e),
        }
    };
    let ms = rt::time::ticks() - t0;
    match result {
        Ok(()) => rt::info!("sent {} bytes in {} ms", sent, ms),
        Err(e) => rt::warn!("source: {} after {} of {} bytes", e, sent, want),
    }
    let _ = conn.close();
}
