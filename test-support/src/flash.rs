//! A NOR-flash double for the power-loss tests: writes only clear bits, erases set a
//! page to 0xFF, power is cut after a budget of word writes and page erases (the
//! operation during the cut lost, landed, or torn), wear and reads are counted.

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// The write granularity (STM32F4 programs up to 4 bytes at a time).
pub const WORD: usize = 4;
/// The erase granularity.
pub const PAGE: usize = 1024;

/// The flash double's only error: the power is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerOff;

impl NorFlashError for PowerOff {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// NOR flash in RAM (writes only clear bits, erases set a whole page to 0xFF) that
/// loses power after `budget` word writes and page erases, and counts wear.
pub struct CutFlash {
    /// The flash contents.
    pub mem: Vec<u8>,
    /// Word writes and page erases left before the power is cut (`None`: never).
    pub budget: Option<usize>,
    /// Whether the operation during which power is cut still lands (the cell was
    /// programmed, the driver never reported success) or not.
    pub lands: bool,
    /// Whether the operation during which power is cut is torn: an erase resets only
    /// the first half of the page, a word write programs only its first half.
    pub torn: bool,
    /// The power is off: every later operation fails.
    pub off: bool,
    /// Word writes done.
    pub words_written: usize,
    /// Page erases done.
    pub erases: usize,
    /// Writes to a word that was not fully erased (not all 0xFF) when written.
    pub double_writes: usize,
    /// Read calls.
    pub reads: usize,
    /// Bytes read.
    pub bytes_read: usize,
}

impl CutFlash {
    /// Flash holding `mem`, its power cut after `budget` operations.
    pub fn new(mem: Vec<u8>, budget: Option<usize>) -> Self {
        Self {
            mem,
            budget,
            lands: false,
            torn: false,
            off: false,
            words_written: 0,
            erases: 0,
            double_writes: 0,
            reads: 0,
            bytes_read: 0,
        }
    }

    /// Spends one operation; `false` once the power is cut (the operation is then
    /// applied only if `lands`, and reported as failed either way).
    fn spend(&mut self) -> bool {
        if self.off {
            return false;
        }
        match &mut self.budget {
            Some(0) => {
                self.off = true;
                false
            }
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }
}

impl CutFlash {
    /// True exactly once: for the operation during which a landing cut happens.
    fn lands_now(&mut self) -> bool {
        core::mem::take(&mut self.lands)
    }

    /// True exactly once: for the operation during which a tearing cut happens.
    fn tears_now(&mut self) -> bool {
        core::mem::take(&mut self.torn)
    }
}

impl ErrorType for CutFlash {
    type Error = PowerOff;
}

impl ReadNorFlash for CutFlash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), PowerOff> {
        if self.off {
            return Err(PowerOff);
        }
        let o = offset as usize;
        self.reads += 1;
        self.bytes_read += bytes.len();
        bytes.copy_from_slice(&self.mem[o..o + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl NorFlash for CutFlash {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), PowerOff> {
        for page in (from as usize..to as usize).step_by(PAGE) {
            let on = self.spend();
            if !on && self.tears_now() {
                self.mem[page..page + PAGE / 2].fill(0xFF);
            } else if on || self.lands_now() {
                self.mem[page..page + PAGE].fill(0xFF);
                self.erases += 1;
            }
            if !on {
                return Err(PowerOff);
            }
        }
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), PowerOff> {
        assert_eq!(offset as usize % WORD, 0, "unaligned write");
        assert_eq!(bytes.len() % WORD, 0, "partial-word write");
        for (i, word) in bytes.chunks(WORD).enumerate() {
            let on = self.spend();
            let o = offset as usize + i * WORD;
            if !on && self.tears_now() {
                for (c, w) in self.mem[o..o + WORD / 2].iter_mut().zip(word) {
                    *c &= *w;
                }
                return Err(PowerOff);
            }
            if !on && !self.lands_now() {
                return Err(PowerOff);
            }
            let cell = &mut self.mem[o..o + WORD];
            if cell.iter().any(|&b| b != 0xFF) {
                self.double_writes += 1;
            }
            // NOR: a write can only clear bits.
            for (c, w) in cell.iter_mut().zip(word) {
                *c &= *w;
            }
            self.words_written += 1;
            if !on {
                return Err(PowerOff);
            }
        }
        Ok(())
    }
}
