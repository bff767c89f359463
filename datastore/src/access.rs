//! Who may read which namespaces (each task's `reads` in the manifest),
//! from where each kernel's start-up puts the manifest for this task.

use alloc::string::String;
use store_core::Acl;

rt::resurgo_only! {
    /// On Resurgo's kernel: the manifest in the boot archive
    /// (`boot-archive = true`).
    pub fn acl() -> Result<Acl, String> {
        let boot = boot::Boot::open()
            .map_err(|e| alloc::format!("{e} (the manifest must say `boot-archive = true`)"))?;
        let mut acl = Acl::new();
        for t in &boot.system.tasks {
            acl.grant(&t.name, t.reads.iter().map(String::as_str));
        }
        Ok(acl)
    }
}

rt::fiasco_only! {
    /// On Fiasco.OC: ned's script passes each task's `reads` as an
    /// argument `reads@TASK=NS,NS,...` (tasks without are absent and read
    /// only their own namespace).
    pub fn acl() -> Result<Acl, String> {
        let mut acl = Acl::new();
        for (key, list) in rt::env::strings() {
            let Some(task) = key.strip_prefix("reads@") else { continue };
            if task.is_empty() {
                return Err(String::from("an argument `reads@=...` names no task"));
            }
            acl.grant(task, list.split(',').filter(|n| !n.is_empty()));
        }
        Ok(acl)
    }
}
