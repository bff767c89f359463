//! The system-wide settings every task learns at start: their keys and their
//! encodings in a task's environment, defined once for the loader that writes
//! them (`boot::spawn`) and the tasks that read them (netd, the driver shim).
//!
//! A setting is an environment value (`rt::env::value`). Every task gets every
//! setting, written from the manifest's `[system]` table; a task reads them
//! all at once with [`Settings::read`], and a value it does not know is an
//! error, not a silent default.

use crate::{RestartMode, System};
use core::fmt;

/// The environment key of [`Settings::restart`].
pub const RESTART_MODE: &str = "restart-mode";

/// What the manifest's `[system]` table says to every task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// How drivers come back after a failure (`[system] restart`).
    pub restart: RestartMode,
}

/// A setting in a task's environment that no manifest could have written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingError {
    BadValue { key: &'static str, value: u64 },
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingError::BadValue { key, value } => write!(f, "setting `{key}` has no meaning for the value {value}"),
        }
    }
}

impl Settings {
    /// The settings of a validated system.
    pub fn of(system: &System) -> Settings {
        Settings { restart: system.restart }
    }

    /// The environment values that carry the settings to a task.
    pub fn values(&self) -> [(&'static str, u64); 1] {
        [(RESTART_MODE, self.restart.value())]
    }

    /// The settings from a task's environment (`lookup` is `rt::env::value`).
    /// A setting that is absent has its default (a task started by hand, or
    /// by a test harness, without the loader).
    pub fn read(lookup: impl Fn(&str) -> Option<u64>) -> Result<Settings, SettingError> {
        let restart = match lookup(RESTART_MODE) {
            None => RestartMode::default(),
            Some(v) => RestartMode::from_value(v).ok_or(SettingError::BadValue { key: RESTART_MODE, value: v })?,
        };
        Ok(Settings { restart })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(values: &'a [(&'static str, u64)]) -> impl Fn(&str) -> Option<u64> + 'a {
        move |k| values.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn what_the_loader_writes_a_task_reads_back() {
        for restart in RestartMode::ALL {
            let s = Settings { restart };
            assert_eq!(Settings::read(lookup(&s.values())), Ok(s));
        }
    }

    #[test]
    fn absent_settings_are_the_defaults_and_unknown_values_are_errors() {
        assert_eq!(Settings::read(lookup(&[])), Ok(Settings::default()));
        assert_eq!(Settings::default().restart, RestartMode::Transparent);
        assert_eq!(
            Settings::read(lookup(&[(RESTART_MODE, 7)])),
            Err(SettingError::BadValue { key: RESTART_MODE, value: 7 })
        );
    }
}
