//! A host tap device as the guest NIC's wire, so that the guest's TCP peer
//! is the host's own Linux TCP (SACK, RACK, tail-loss probes, a 200 ms
//! minimum timer) instead of QEMU's user network (slirp, a 4.4BSD TCP with a
//! timer of at least a second and no SACK).
//!
//! The host side of the device takes [`HOST`] on a /24; nobody answers DHCP
//! there, so netd takes its static fallback address [`GUEST`] after three
//! seconds (`netd/src/stack.rs`), with the host as its gateway. Creating a
//! tap device needs `CAP_NET_ADMIN` (root) and `/dev/net/tun`; the device is
//! deleted when the [`Tap`] is dropped.

use anyhow::{Context, Result, bail};
use std::net::Ipv4Addr;
use std::process::Command;

/// The host's address on the tap device: netd's fallback gateway.
pub const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The guest's address on it: netd's fallback address.
pub const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The prefix length of both.
pub const PREFIX: u8 = 24;

/// A tap device this process created; deleted on drop.
#[derive(Debug)]
pub struct Tap {
    name: String,
}

impl Tap {
    /// Creates `resurgo-tPID`, gives the host [`HOST`] on it and brings it
    /// up. Fails with what is missing when the host cannot (not root, no
    /// `/dev/net/tun`, no `ip`) or when another interface already holds the
    /// guest's network.
    pub fn create() -> Result<Tap> {
        if !std::path::Path::new("/dev/net/tun").exists() {
            bail!("a tap peer needs /dev/net/tun, which this host does not have");
        }
        // At most 15 bytes (IFNAMSIZ less its NUL).
        let name = format!("resurgo-t{}", std::process::id() % 100_000);
        let net = format!("{}/{PREFIX}", Ipv4Addr::from(u32::from(HOST) & !(u32::MAX >> PREFIX)));
        let routes = ip(&["-4", "-o", "route", "show", &net])?;
        if let Some(route) = routes.lines().find(|l| !l.contains(&name)) {
            bail!("a tap peer needs {net} for itself, but this host routes it already: `{route}`");
        }
        ip(&["tuntap", "add", "dev", &name, "mode", "tap"])
            .context("creating a tap device (needs root, or CAP_NET_ADMIN)")?;
        // From here on the device exists: dropping `tap` deletes it.
        let tap = Tap { name };
        ip(&["addr", "add", &format!("{HOST}/{PREFIX}"), "dev", &tap.name])?;
        ip(&["link", "set", &tap.name, "up"])?;
        Ok(tap)
    }

    /// The device's name, for QEMU's `-netdev tap,ifname=`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Err(e) = ip(&["link", "del", &self.name]) {
            eprintln!("warning: could not delete the tap device {}: {e:#}", self.name);
        }
    }
}

/// Runs `ip ARGS`; its standard output, or an error with what it said.
fn ip(args: &[&str]) -> Result<String> {
    let out = Command::new("ip").args(args).output().context("running `ip` (Debian's iproute2)")?;
    if !out.status.success() {
        bail!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_guest_share_the_network_netd_falls_back_to() {
        let mask = !(u32::MAX >> PREFIX);
        assert_eq!(u32::from(HOST) & mask, u32::from(GUEST) & mask);
        assert_ne!(HOST, GUEST);
    }
}
