//! Key syntax: which namespace a key lies in, and whether it is private.
//!
//! `OWNER/SEG[/SEG...]` lies in task OWNER's namespace; `OWNER/.private` and
//! everything under `OWNER/.private/` is OWNER's private state. A key without
//! `/` is a global name (`net.eth0`). See `protocols::store` for the rules.

use crate::Error;
use protocols::store::MAX_KEY;

/// Where a key lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// In task `owner`'s namespace; `private` under `owner/.private`.
    Namespace { owner: &'a str, private: bool },
    /// A global name.
    Global,
}

/// Longest task name (as the manifest allows).
pub const MAX_TASK_NAME: usize = 24;

/// A task name as the manifest allows it: 1..=24 letters, digits, `-`, `_`.
pub fn is_task_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_TASK_NAME && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn plain_chars(s: &str) -> bool {
    s.chars().all(|c| !c.is_control() && !c.is_whitespace())
}

fn is_private(rest: &str) -> bool {
    rest == ".private" || rest.starts_with(".private/")
}

/// Checks a key and says where it lies.
pub fn parse(key: &str) -> Result<Scope<'_>, Error> {
    if key.len() > MAX_KEY {
        return Err(Error::TooBig);
    }
    if key.is_empty() || !plain_chars(key) {
        return Err(Error::Invalid);
    }
    match key.split_once('/') {
        Some((owner, rest)) => {
            let segments_ok = rest.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
            if !is_task_name(owner) || !segments_ok {
                return Err(Error::Invalid);
            }
            Ok(Scope::Namespace { owner, private: is_private(rest) })
        }
        None => {
            let chars_ok = key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !chars_ok || key.starts_with('.') || key.ends_with('.') || key.contains("..") {
                return Err(Error::Invalid);
            }
            Ok(Scope::Global)
        }
    }
}

/// What a subscription prefix reaches into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixScope<'a> {
    /// The namespace every matching key lies in, when the prefix names one.
    pub owner: Option<&'a str>,
    /// Every matching key is private to `owner`.
    pub private: bool,
}

/// Checks a subscription prefix (any start of a key, empty for all keys).
pub fn parse_prefix(prefix: &str) -> Result<PrefixScope<'_>, Error> {
    if prefix.len() > MAX_KEY {
        return Err(Error::TooBig);
    }
    if !plain_chars(prefix) {
        return Err(Error::Invalid);
    }
    match prefix.split_once('/') {
        None => Ok(PrefixScope { owner: None, private: false }),
        Some((owner, rest)) if is_task_name(owner) => Ok(PrefixScope { owner: Some(owner), private: is_private(rest) }),
        Some(_) => Err(Error::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_keys() {
        assert_eq!(parse("eth0/mac"), Ok(Scope::Namespace { owner: "eth0", private: false }));
        assert_eq!(parse("eth0/config/mtu"), Ok(Scope::Namespace { owner: "eth0", private: false }));
        assert_eq!(parse("eth0/.private"), Ok(Scope::Namespace { owner: "eth0", private: true }));
        assert_eq!(parse("eth0/.private/rings"), Ok(Scope::Namespace { owner: "eth0", private: true }));
        assert_eq!(parse("eth0/.privateer"), Ok(Scope::Namespace { owner: "eth0", private: false }));
        assert_eq!(parse("eth0/x/.private"), Ok(Scope::Namespace { owner: "eth0", private: false }));
        assert_eq!(parse("eth0/grüße"), Ok(Scope::Namespace { owner: "eth0", private: false }));
        for bad in ["eth0/", "/x", "eth0//x", "eth0/x/", "eth0/./x", "eth0/..", "e th0/x", "eth0/a b", "eth0/\u{7}"] {
            assert_eq!(parse(bad), Err(Error::Invalid), "{bad}");
        }
        assert_eq!(parse("a-very-long-task-name-25x/k"), Err(Error::Invalid), "not a task name");
    }

    #[test]
    fn global_names() {
        assert_eq!(parse("net.eth0"), Ok(Scope::Global));
        assert_eq!(parse("netd"), Ok(Scope::Global));
        for bad in ["", ".net", "net.", "net..eth0", "net:eth0", "né"] {
            assert_eq!(parse(bad), Err(Error::Invalid), "{bad}");
        }
    }

    #[test]
    fn length_limits() {
        let longest = std::format!("t/{}", "k".repeat(MAX_KEY - 2));
        assert!(parse(&longest).is_ok());
        let longer = std::format!("t/{}", "k".repeat(MAX_KEY - 1));
        assert_eq!(parse(&longer), Err(Error::TooBig));
        assert_eq!(parse_prefix(&longer), Err(Error::TooBig));
    }

    #[test]
    fn prefixes() {
        assert_eq!(parse_prefix(""), Ok(PrefixScope { owner: None, private: false }));
        assert_eq!(parse_prefix("net."), Ok(PrefixScope { owner: None, private: false }));
        assert_eq!(parse_prefix("eth0/"), Ok(PrefixScope { owner: Some("eth0"), private: false }));
        assert_eq!(parse_prefix("eth0/.private/"), Ok(PrefixScope { owner: Some("eth0"), private: true }));
        assert_eq!(parse_prefix("eth0/.priv"), Ok(PrefixScope { owner: Some("eth0"), private: false }));
        assert_eq!(parse_prefix("no such task/"), Err(Error::Invalid));
        assert_eq!(parse_prefix("eth0/\n"), Err(Error::Invalid));
    }
}
