//! The physical frame allocator: one bit per 4 KiB frame of RAM.
//!
//! Single frames serve page tables and anonymous memory; runs of contiguous frames
//! serve DMA memory. `free_count` is exact at all times, which lets a test verify
//! that a hundred task restarts leak nothing.

use alloc::vec;
use alloc::vec::Vec;

/// A physical frame number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Frame(pub u64);

impl Frame {
    pub const fn addr(self) -> u64 {
        self.0 * 4096
    }
    pub const fn containing(addr: u64) -> Frame {
        Frame(addr / 4096)
    }
}

pub struct FrameAllocator {
    /// Bit set: frame is free.
    bits: Vec<u64>,
    /// Frames below this number are never handed out (the bitmap starts at 0).
    frames: u64,
    free: u64,
    total: u64,
    /// Where the next single-frame search starts.
    hint: usize,
}

impl FrameAllocator {
    /// An allocator with no memory (the state before boot hands it RAM).
    pub const fn empty() -> FrameAllocator {
        FrameAllocator { bits: Vec::new(), frames: 0, free: 0, total: 0, hint: 0 }
    }

    /// An allocator for frame numbers `0..frames`, all of them in use until
    /// [`FrameAllocator::add_free`] releases the RAM ranges.
    pub fn new(frames: u64) -> FrameAllocator {
        FrameAllocator { bits: vec![0; frames.div_ceil(64) as usize], frames, free: 0, total: 0, hint: 0 }
    }

    /// Marks `[start, end)` (frame numbers) as free RAM.
    pub fn add_free(&mut self, start: u64, end: u64) {
        for f in start..end.min(self.frames) {
            if !self.is_free(Frame(f)) {
                self.set(f, true);
                self.free += 1;
                self.total += 1;
            }
        }
    }

    /// Takes `[start, end)` out of the free pool for good (kernel image, boot
    /// modules, the kernel heap).
    pub fn reserve(&mut self, start: u64, end: u64) {
        for f in start..end.min(self.frames) {
            if self.is_free(Frame(f)) {
                self.set(f, false);
                self.free -= 1;
                self.total -= 1;
            }
        }
    }

    fn set(&mut self, f: u64, free: bool) {
        let (w, b) = ((f / 64) as usize, f % 64);
        if free {
            self.bits[w] |= 1 << b;
        } else {
            self.bits[w] &= !(1 << b);
        }
    }

    pub fn is_free(&self, frame: Frame) -> bool {
        frame.0 < self.frames && self.bits[(frame.0 / 64) as usize] & (1 << (frame.0 % 64)) != 0
    }

    pub fn alloc(&mut self) -> Option<Frame> {
        let n = self.bits.len();
        for i in 0..n {
            let w = (self.hint + i) % n;
            if self.bits[w] != 0 {
                let f = w as u64 * 64 + self.bits[w].trailing_zeros() as u64;
                self.set(f, false);
                self.free -= 1;
                self.hint = w;
                return Some(Frame(f));
            }
        }
        None
    }

    /// `count` contiguous frames whose first frame number is a multiple of `align`.
    /// One pass over the bitmap, skipping fully used words: a task asking for
    /// DMA memory cannot keep the kernel busy for long.
    pub fn alloc_contiguous(&mut self, count: u64, align: u64) -> Option<Frame> {
        if count == 0 || align == 0 || count > self.free {
            return None;
        }
        let mut start = 0;
        let mut f = 0;
        while f < self.frames {
            if f % 64 == 0 && self.bits[(f / 64) as usize] == 0 {
                f += 64;
                start = f.next_multiple_of(align);
                continue;
            }
            if !self.is_free(Frame(f)) {
                f += 1;
                start = f.next_multiple_of(align);
                continue;
            }
            if f < start {
                f += 1;
                continue;
            }
            if f + 1 - start == count {
                for x in start..start + count {
                    self.set(x, false);
                }
                self.free -= count;
                return Some(Frame(start));
            }
            f += 1;
        }
        None
    }

    /// Returns a frame. Freeing a frame that is already free is a kernel bug.
    pub fn free(&mut self, frame: Frame) {
        assert!(frame.0 < self.frames && !self.is_free(frame), "double free of frame {:#x}", frame.addr());
        self.set(frame.0, true);
        self.free += 1;
    }

    pub fn free_count(&self) -> u64 {
        self.free
    }

    pub fn total_count(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_exact() {
        let mut a = FrameAllocator::new(1000);
        a.add_free(10, 500);
        a.reserve(100, 110);
        assert_eq!(a.free_count(), 480);
        let frames: Vec<_> = (0..480).map(|_| a.alloc().unwrap()).collect();
        assert!(a.alloc().is_none());
        assert!(frames.iter().all(|f| f.0 >= 10 && f.0 < 500 && !(100..110).contains(&f.0)));
        for f in frames {
            a.free(f);
        }
        assert_eq!(a.free_count(), 480);
    }

    #[test]
    fn contiguous_runs_respect_holes_and_alignment() {
        let mut a = FrameAllocator::new(256);
        a.add_free(1, 256);
        a.reserve(20, 21);
        let run = a.alloc_contiguous(16, 16).unwrap();
        assert_eq!(run.0 % 16, 0);
        assert!(run.0 >= 16);
        assert!(!(run.0..run.0 + 16).contains(&20));
        assert_eq!(a.free_count(), 255 - 1 - 16);
        assert!(a.alloc_contiguous(300, 1).is_none());
        // Runs across word boundaries and after fully used words.
        let mut b = FrameAllocator::new(1024);
        b.add_free(0, 1024);
        b.reserve(0, 130);
        b.reserve(200, 201);
        let r = b.alloc_contiguous(100, 1).unwrap();
        assert_eq!(r.0, 201);
        assert_eq!(b.alloc_contiguous(70, 1).unwrap().0, 130);
        assert_eq!(b.free_count(), 1024 - 131 - 170);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_is_caught() {
        let mut a = FrameAllocator::new(64);
        a.add_free(0, 64);
        let f = a.alloc().unwrap();
        a.free(f);
        a.free(f);
    }
}
