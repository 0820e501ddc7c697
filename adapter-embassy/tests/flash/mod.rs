//! A NOR-flash double for the refresh-loop tests: its bytes live behind an `Arc`, so
//! they survive a "reboot" (the store and the loop dropped and opened again), and
//! optionally in a file (written through on every operation). Writes only clear bits,
//! erases set a page to 0xFF. Switches: fail every write (a flash error), or hold every
//! write forever (power cut at the flash write, once the executor is torn down).

// Each test binary uses part of it.
#![allow(dead_code)]

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

pub(crate) const WORD: usize = 4;
pub(crate) const PAGE: usize = 1024;
pub(crate) const PAGES: usize = 4;
pub(crate) const LEN: usize = PAGE * PAGES;

/// The double's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlashFailed;

impl NorFlashError for FlashFailed {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// What every handle of one flash shares.
#[derive(Default)]
pub(crate) struct Shared {
    mem: Mutex<Vec<u8>>,
    file: Option<File>,
    /// Every write and erase fails.
    pub(crate) fail: AtomicBool,
    /// Every write never completes (the power is cut while the word is programmed).
    pub(crate) hold: AtomicBool,
    /// Writes and erases that were held (see `hold`).
    pub(crate) held: AtomicUsize,
    /// Writes (calls) that completed.
    pub(crate) writes: AtomicUsize,
    /// Page erases that completed.
    pub(crate) erases: AtomicUsize,
}

/// A handle on the shared flash (one per boot).
#[derive(Clone)]
pub(crate) struct TestFlash(pub(crate) Arc<Shared>);

impl TestFlash {
    /// Erased flash in RAM.
    pub(crate) fn new() -> Self {
        Self(Arc::new(Shared {
            mem: Mutex::new(vec![0xFF; LEN]),
            ..Shared::default()
        }))
    }

    /// Flash kept in `path` (created erased, or read back if it exists).
    pub(crate) fn file(path: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .expect("open the flash file");
        let mut mem = vec![0xFF; LEN];
        let n = file.read_at(&mut mem, 0).expect("read the flash file");
        if n < LEN {
            mem[n..].fill(0xFF);
            file.write_all_at(&mem, 0)
                .expect("initialise the flash file");
        }
        Self(Arc::new(Shared {
            mem: Mutex::new(mem),
            file: Some(file),
            ..Shared::default()
        }))
    }

    /// A copy of the bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.0.mem.lock().unwrap().clone()
    }

    fn persist(&self, mem: &[u8], from: usize, to: usize) {
        if let Some(f) = &self.0.file {
            f.write_all_at(&mem[from..to], from as u64)
                .expect("write through to the flash file");
        }
    }
}

impl ErrorType for TestFlash {
    type Error = FlashFailed;
}

impl ReadNorFlash for TestFlash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashFailed> {
        let o = offset as usize;
        bytes.copy_from_slice(&self.0.mem.lock().unwrap()[o..o + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        LEN
    }
}

impl NorFlash for TestFlash {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashFailed> {
        if self.0.fail.load(Ordering::SeqCst) {
            return Err(FlashFailed);
        }
        if self.0.hold.load(Ordering::SeqCst) {
            self.0.held.fetch_add(1, Ordering::SeqCst);
            core::future::pending::<()>().await;
        }
        let (from, to) = (from as usize, to as usize);
        let mut mem = self.0.mem.lock().unwrap();
        mem[from..to].fill(0xFF);
        self.persist(&mem, from, to);
        self.0
            .erases
            .fetch_add((to - from) / PAGE, Ordering::SeqCst);
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashFailed> {
        if self.0.fail.load(Ordering::SeqCst) {
            return Err(FlashFailed);
        }
        if self.0.hold.load(Ordering::SeqCst) {
            self.0.held.fetch_add(1, Ordering::SeqCst);
            core::future::pending::<()>().await;
        }
        let o = offset as usize;
        let mut mem = self.0.mem.lock().unwrap();
        for (cell, b) in mem[o..o + bytes.len()].iter_mut().zip(bytes) {
            *cell &= *b;
        }
        self.persist(&mem, o, o + bytes.len());
        self.0.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
