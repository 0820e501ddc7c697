//! Logging through `defmt` (feature `defmt`) or `log` (feature `log`), as embassy's own
//! crates do; nothing at all with neither.
//!
//! Only host names, addresses, ports, stages and HTTP statuses are ever logged:
//! never request or response bytes, which hold client secrets, codes and tokens.

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("picoauth-embassy: enable at most one of the features `defmt` and `log`");

/// Logs at `$level` through `defmt` or `log` when one of those features is on: both
/// name their macros `debug` and `warn`. With neither, the arguments are only borrowed,
/// so that they still count as used.
macro_rules! log_at {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::$level!($fmt $(, $arg)*);
        #[cfg(feature = "log")]
        ::log::$level!($fmt $(, $arg)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        {
            let _ = ($(&$arg,)*);
        }
    }};
}

/// Logs at debug level through `defmt` or `log` when one of those features is on.
macro_rules! debug {
    ($($t:tt)*) => { $crate::fmt::log_at!(debug, $($t)*) };
}

/// Logs at warn level through `defmt` or `log` when one of those features is on.
macro_rules! warning {
    ($($t:tt)*) => { $crate::fmt::log_at!(warn, $($t)*) };
}

pub(crate) use {debug, log_at, warning};
