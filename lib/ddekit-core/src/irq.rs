//! The state of one interrupt line in a driver task: how often it is
//! disabled, whether an interrupt is held back, whether handlers run.
//!
//! The interrupt thread and `ddekit_interrupt_{disable,enable,attach,detach}`
//! change it under one lock. An interrupt that arrives while the line is
//! disabled (or before any handler is attached) is held: the line stays masked
//! (it is not acknowledged) until the handlers have run after the enable.

/// What the interrupt thread does with an interrupt (or a wake-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Call the handlers now, then acknowledge.
    Run,
    /// Keep it until enabled (or a handler is attached).
    Hold,
    /// Nothing to do.
    Nothing,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineState {
    pub disabled: u32,
    pub held: bool,
    pub running: bool,
    pub handlers: usize,
}

/// `enable` without a matching `disable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unbalanced;

impl LineState {
    fn can_run(&self) -> bool {
        self.disabled == 0 && self.handlers > 0
    }

    /// An interrupt arrived.
    pub fn interrupt(&mut self) -> Action {
        if self.can_run() {
            self.held = false;
            self.running = true;
            Action::Run
        } else {
            self.held = true;
            Action::Hold
        }
    }

    /// The interrupt thread was woken: runs a held interrupt if it may now.
    pub fn kick(&mut self) -> Action {
        if self.held && self.can_run() {
            self.held = false;
            self.running = true;
            Action::Run
        } else {
            Action::Nothing
        }
    }

    /// The handlers returned.
    pub fn finished(&mut self) {
        self.running = false;
    }

    pub fn disable(&mut self) {
        self.disabled = self.disabled.saturating_add(1);
    }

    /// Returns whether the interrupt thread must be woken (a held interrupt
    /// can run now).
    pub fn enable(&mut self) -> Result<bool, Unbalanced> {
        if self.disabled == 0 {
            return Err(Unbalanced);
        }
        self.disabled -= 1;
        Ok(self.held && self.can_run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_when_enabled() {
        let mut s = LineState { handlers: 1, ..Default::default() };
        assert_eq!(s.interrupt(), Action::Run);
        assert!(s.running);
        s.finished();
        assert!(!s.running);
        assert_eq!(s.kick(), Action::Nothing);
    }

    #[test]
    fn held_while_disabled_until_the_last_enable() {
        let mut s = LineState { handlers: 2, ..Default::default() };
        s.disable();
        s.disable();
        assert_eq!(s.interrupt(), Action::Hold);
        assert_eq!(s.kick(), Action::Nothing);
        assert_eq!(s.enable(), Ok(false), "still disabled once");
        assert_eq!(s.enable(), Ok(true));
        assert_eq!(s.kick(), Action::Run);
        assert!(!s.held);
        s.finished();
        assert_eq!(s.enable(), Err(Unbalanced));
        assert_eq!(s.disabled, 0);
    }

    #[test]
    fn held_without_handlers_until_attached() {
        let mut s = LineState::default();
        assert_eq!(s.interrupt(), Action::Hold);
        s.handlers = 1;
        assert_eq!(s.kick(), Action::Run);
    }
}
