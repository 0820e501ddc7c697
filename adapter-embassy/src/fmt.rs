//! Logging through `defmt` (feature `defmt`) or `log` (feature `log`), as embassy's own
//! crates do; nothing at all with neither.
//!
//! Only host names, addresses, ports, stages and HTTP statuses are ever logged:
//! never request or response bytes, which hold client secrets, codes and tokens.

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("picoauth-embassy: enable at most one of the features `defmt` and `log`");

/// Logs at debug level through `defmt` or `log` when one of those features is on.
macro_rules! debug {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::debug!($fmt $(, $arg)*);
        #[cfg(feature = "log")]
        ::log::debug!($fmt $(, $arg)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        {
            let _ = ($(&$arg,)*);
        }
    }};
}

/// Logs at warn level through `defmt` or `log` when one of those features is on.
macro_rules! warning {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::warn!($fmt $(, $arg)*);
        #[cfg(feature = "log")]
        ::log::warn!($fmt $(, $arg)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        {
            let _ = ($(&$arg,)*);
        }
    }};
}

pub(crate) use {debug, warning};
