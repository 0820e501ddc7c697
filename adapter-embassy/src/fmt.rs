//! Logging that compiles to nothing without the `defmt` feature.
//!
//! Only host names, addresses, ports, stages and HTTP statuses are ever logged:
//! never request or response bytes, which hold client secrets, codes and tokens.

/// Logs at debug level through `defmt` when the feature is on.
macro_rules! debug {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::debug!($fmt $(, $arg)*);
        #[cfg(not(feature = "defmt"))]
        {
            let _ = ($(&$arg,)*);
        }
    }};
}

/// Logs at warn level through `defmt` when the feature is on.
macro_rules! warning {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::warn!($fmt $(, $arg)*);
        #[cfg(not(feature = "defmt"))]
        {
            let _ = ($(&$arg,)*);
        }
    }};
}

pub(crate) use {debug, warning};
