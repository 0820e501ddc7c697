//! Ending a harness run under qemu: the panic handler reports through semihosting and
//! exits with failure; [`halt`] sleeps after an exit (which does not return under qemu).

use cortex_m_semihosting::{debug, hprintln};

/// After a semihosting exit (which does not return under qemu): sleep forever.
pub fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// Says `what` failed, exits with failure through semihosting, and halts.
pub fn fail(what: &str) -> ! {
    hprintln!("FAIL: {}", what);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}
