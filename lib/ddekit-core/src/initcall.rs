//! The order of initcalls: ascending level, and within a level the order of
//! the entries in the section (link order). Computed without allocating.

/// Yields the indices of `levels` in ascending level order, equal levels in
/// index order.
pub struct LevelOrder<'a> {
    levels: &'a [i32],
    /// Level being yielded and the next index to look at.
    current: Option<i32>,
    index: usize,
}

impl<'a> LevelOrder<'a> {
    pub fn new(levels: &'a [i32]) -> Self {
        LevelOrder { levels, current: levels.iter().copied().min(), index: 0 }
    }
}

impl Iterator for LevelOrder<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        loop {
            let level = self.current?;
            while self.index < self.levels.len() {
                let i = self.index;
                self.index += 1;
                if self.levels[i] == level {
                    return Some(i);
                }
            }
            self.current = self.levels.iter().copied().filter(|&l| l > level).min();
            self.index = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascending_and_stable() {
        let levels = [6, 1, 6, 4, 1, -3, 6];
        let order: Vec<usize> = LevelOrder::new(&levels).collect();
        assert_eq!(order, [5, 1, 4, 3, 0, 2, 6]);
        assert_eq!(LevelOrder::new(&[]).count(), 0);
        assert_eq!(LevelOrder::new(&[i32::MAX, i32::MIN]).collect::<Vec<_>>(), [1, 0]);
    }
}
