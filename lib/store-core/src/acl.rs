//! Who may read and write what.
//!
//! A task writes its own namespace and nothing else there; it reads its own and
//! those its manifest's `reads` names (`"*"`: all). Private keys are read by
//! their owner alone. Global names belong to whoever wrote them first (while
//! the entry exists) and are read by everyone.

use crate::key::Scope;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Reads {
    All,
    Some(Vec<String>),
}

/// The read grants of every client, from the manifest.
#[derive(Clone, Debug, Default)]
pub struct Acl {
    grants: BTreeMap<String, Reads>,
}

impl Acl {
    pub fn new() -> Acl {
        Acl::default()
    }

    /// Lets `client` read the namespaces named (`"*"`: every namespace).
    pub fn grant<'a>(&mut self, client: &str, namespaces: impl IntoIterator<Item = &'a str>) {
        let entry = self.grants.entry(client.to_string()).or_insert(Reads::Some(Vec::new()));
        for ns in namespaces {
            match entry {
                Reads::All => {}
                _ if ns == "*" => *entry = Reads::All,
                Reads::Some(v) if !v.iter().any(|x| x == ns) => v.push(ns.to_string()),
                Reads::Some(_) => {}
            }
        }
    }

    /// Whether `client` may read the non-private keys of `owner`'s namespace.
    pub fn may_read_namespace(&self, client: &str, owner: &str) -> bool {
        client == owner
            || match self.grants.get(client) {
                Some(Reads::All) => true,
                Some(Reads::Some(v)) => v.iter().any(|x| x == owner),
                None => false,
            }
    }

    /// Whether `client` may read a key in `scope`.
    pub fn may_read(&self, client: &str, scope: &Scope) -> bool {
        match *scope {
            Scope::Global => true,
            Scope::Namespace { owner, private: true } => client == owner,
            Scope::Namespace { owner, private: false } => self.may_read_namespace(client, owner),
        }
    }
}

/// Whether `client` may write (or delete) a key in `scope`; `holder` is who
/// holds the entry now, if it exists.
pub fn may_write(client: &str, scope: &Scope, holder: Option<&str>) -> bool {
    match *scope {
        Scope::Namespace { owner, .. } => owner == client,
        Scope::Global => holder.is_none_or(|h| h == client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(owner: &str, private: bool) -> Scope<'_> {
        Scope::Namespace { owner, private }
    }

    #[test]
    fn reading_needs_a_grant_and_private_keys_need_ownership() {
        let mut acl = Acl::new();
        acl.grant("netd", ["eth0"]);
        acl.grant("shell", ["*"]);
        acl.grant("shell", ["eth0"]);
        assert!(acl.may_read("eth0", &ns("eth0", false)));
        assert!(acl.may_read("eth0", &ns("eth0", true)));
        assert!(acl.may_read("netd", &ns("eth0", false)));
        assert!(!acl.may_read("netd", &ns("eth0", true)), "private even to a granted reader");
        assert!(!acl.may_read("netd", &ns("eth1", false)));
        assert!(acl.may_read("shell", &ns("eth1", false)));
        assert!(!acl.may_read("shell", &ns("eth1", true)), "`*` does not reach private keys");
        assert!(!acl.may_read("stranger", &ns("eth0", false)), "no grants at all");
        assert!(acl.may_read("stranger", &Scope::Global));
    }

    #[test]
    fn writing_only_in_the_own_namespace_and_global_names_first_come() {
        assert!(may_write("eth0", &ns("eth0", true), None));
        assert!(!may_write("netd", &ns("eth0", false), None));
        assert!(!may_write("netd", &ns("eth0", false), Some("netd")), "the holder does not matter in a namespace");
        assert!(may_write("eth0", &Scope::Global, None));
        assert!(may_write("eth0", &Scope::Global, Some("eth0")));
        assert!(!may_write("netd", &Scope::Global, Some("eth0")));
    }
}
