//! MINIX-style restarts: netd learns of each driver instance from the data
//! store, as MINIX's network servers learn of a restarted driver from theirs.
//!
//! netd subscribes to `NAME/net/` of every driver that may attach (its
//! manifest's `reads` grants those namespaces), with a software IRQ of its
//! own. A driver instance publishes its wake-up IRQ and then its ring
//! dataspace there (`protocols::nic::RINGS_KEY`); the change to the rings key
//! is netd's news of a new instance, which it then re-initialises
//! ([`crate::nic::Nics::announced`]).

use alloc::string::String;
use alloc::vec::Vec;
use datastore::{Client, EventKind};
use protocols::nic;
use rt::obj::{Factory, Irq, Thread};

pub struct Announcements {
    store: Client,
    /// Subscription id and driver task, one per driver.
    subs: Vec<(u64, String)>,
    _irq: Irq,
}

impl Announcements {
    /// Subscribes to the announcements of `drivers`; the store triggers an IRQ
    /// that netd's main thread receives with `irq_label`.
    pub fn new(drivers: &[&str], irq_label: u64) -> Result<Announcements, String> {
        let store = Client::from_env().ok_or_else(|| String::from("netd has no `datastore.store` gate"))?;
        let irq = Factory::own().create_irq().map_err(|e| alloc::format!("no IRQ object: {e}"))?;
        irq.attach(&Thread::own_main(), irq_label).map_err(|e| alloc::format!("attaching its IRQ: {e}"))?;
        // A previous netd's subscriptions would wake nobody.
        let _ = store.unsubscribe_all();
        let mut subs = Vec::new();
        for d in drivers {
            let prefix = alloc::format!("{d}/{}", nic::ANNOUNCE_PREFIX);
            match store.subscribe(&prefix, &irq) {
                Ok(id) => subs.push((id, String::from(*d))),
                Err(e) => return Err(alloc::format!("subscribing to `{prefix}`: {e}")),
            }
        }
        Ok(Announcements { store, subs, _irq: irq })
    }

    /// Every driver: what netd looks at once subscribed, for the instances
    /// that announced themselves before netd was listening.
    pub fn all(&self) -> Vec<String> {
        self.subs.iter().map(|(_, d)| d.clone()).collect()
    }

    /// The drivers whose rings key was created or changed since the last
    /// call: each has a new instance waiting for netd.
    pub fn news(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (id, driver) in &self.subs {
            let rings = alloc::format!("{driver}/{}", nic::RINGS_KEY);
            loop {
                let batch = match self.store.events(*id) {
                    Ok(b) => b,
                    Err(e) => {
                        rt::warn!("data store events for {}: {}", driver, e);
                        break;
                    }
                };
                // Lost events: look anyway; a key already handled is skipped
                // by its version.
                let hit = batch.lost > 0 || batch.events.iter().any(|e| e.key == rings && e.kind != EventKind::Deleted);
                if hit && !out.contains(driver) {
                    out.push(driver.clone());
                }
                if !batch.more {
                    break;
                }
            }
        }
        out
    }

    /// The rings and the wake-up IRQ `driver` published, with the rings'
    /// version.
    pub fn lookup(&self, driver: &str) -> Result<(rt::CapIdx, rt::CapIdx, u64), datastore::Error> {
        let (wake, _) = self.store.lookup(&alloc::format!("{driver}/{}", nic::WAKE_KEY))?;
        match self.store.lookup(&alloc::format!("{driver}/{}", nic::RINGS_KEY)) {
            Ok((ds, version)) => Ok((ds, wake, version)),
            Err(e) => {
                rt::obj::release(wake);
                Err(e)
            }
        }
    }
}
