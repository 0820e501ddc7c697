//! `Retry-After` (RFC 9110 §10.2.3) and the IMF-fixdate form of HTTP-date.

/// A parsed `Retry-After` value (RFC 9110 §10.2.3).
///
/// Only the two forms a sender may generate are recognised: delay-seconds and the
/// IMF-fixdate form of HTTP-date. Anything else (the obsolete RFC 850 and asctime date
/// forms, negative or fractional numbers, garbage) is ignored: [`Response::retry_after`](super::Response::retry_after)
/// is `None`, and the raw value is still there through [`Response::header`](super::Response::header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryAfter {
    /// Retry after this many seconds (saturating at `u32::MAX`).
    Seconds(u32),
    /// Retry at or after this time.
    Date(HttpDate),
}

impl RetryAfter {
    /// The delay in seconds, measured from `now` (Unix seconds) for the date form.
    /// A date in the past gives zero.
    pub const fn delay_secs(&self, now_unix: u64) -> u64 {
        match self {
            Self::Seconds(s) => *s as u64,
            Self::Date(d) => d.unix_secs().saturating_sub(now_unix),
        }
    }
}

/// A point in time from an HTTP-date, as whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HttpDate(u64);

impl HttpDate {
    /// Seconds since 1970-01-01T00:00:00Z; dates before the epoch read as zero.
    pub const fn unix_secs(&self) -> u64 {
        self.0
    }

    /// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    ///
    /// Written by hand (a few lines) rather than pulling in a date crate for one header.
    /// The day name is checked for being one, not for matching the date; a leap second
    /// (`:60`) is accepted.
    pub fn parse_imf_fixdate(text: &[u8]) -> Option<Self> {
        const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let t: &[u8; 29] = text.try_into().ok()?;
        let [d0, d1, d2, b',', b' ', dd0, dd1, b' ', m0, m1, m2, b' ', y0, y1, y2, y3, b' ', h0, h1, b':', mi0, mi1, b':', s0, s1, b' ', b'G', b'M', b'T'] =
            *t
        else {
            return None;
        };
        if !DAYS.contains(&&[d0, d1, d2]) {
            return None;
        }
        let month = MONTHS.iter().position(|m| **m == [m0, m1, m2])?;
        let day = digits(&[dd0, dd1])?;
        let year = digits(&[y0, y1, y2, y3])?;
        let (hour, minute, second) = (digits(&[h0, h1])?, digits(&[mi0, mi1])?, digits(&[s0, s1])?);
        let month = u32::try_from(month).ok()?.saturating_add(1);
        if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Some(Self(u64::try_from(secs).unwrap_or(0)))
    }
}

/// The value of 1 to 4 ASCII digits.
fn digits(d: &[u8]) -> Option<u32> {
    d.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). `year` is at most 9999, so nothing here can overflow.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// delay-seconds (saturating) or an IMF-fixdate; anything else is `None`.
pub(super) fn retry_after(value: &[u8]) -> Option<RetryAfter> {
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        let secs = value.iter().fold(0u32, |acc, &b| {
            acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
        });
        return Some(RetryAfter::Seconds(secs));
    }
    HttpDate::parse_imf_fixdate(value).map(RetryAfter::Date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::test_support::{read, res};
    #[test]
    fn retry_after_forms() {
        let cases: &[(&[u8], Option<RetryAfter>)] = &[
            (b"120", Some(RetryAfter::Seconds(120))),
            (b"0", Some(RetryAfter::Seconds(0))),
            (b"99999999999999999999", Some(RetryAfter::Seconds(u32::MAX))),
            (
                b"Sun, 06 Nov 1994 08:49:37 GMT",
                Some(RetryAfter::Date(HttpDate(784_111_777))),
            ),
            (
                b"Thu, 01 Jan 1970 00:00:00 GMT",
                Some(RetryAfter::Date(HttpDate(0))),
            ),
            (
                b"Thu, 29 Feb 2024 23:59:60 GMT",
                Some(RetryAfter::Date(HttpDate(1_709_251_200))),
            ),
            (
                b"Wed, 31 Dec 1969 23:59:59 GMT",
                Some(RetryAfter::Date(HttpDate(0))),
            ),
            (b"Wed, 29 Feb 2023 00:00:00 GMT", None),
            (b"Sunday, 06-Nov-94 08:49:37 GMT", None),
            (b"Sun Nov  6 08:49:37 1994", None),
            (b"Sun, 06 Nov 1994 08:49:37 UTC", None),
            (b"Xyz, 06 Nov 1994 08:49:37 GMT", None),
            (b"Sun, 06 Nov 1994 24:00:00 GMT", None),
            (b"-1", None),
            (b"1.5", None),
            (b"soon", None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                retry_after(value),
                *expected,
                "{:?}",
                core::str::from_utf8(value)
            );
        }
        res!(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n", |r| {
            let ra = r.retry_after.unwrap();
            assert_eq!(ra, RetryAfter::Date(HttpDate(784_111_777)));
            assert_eq!(ra.delay_secs(784_111_700), 77);
            assert_eq!(ra.delay_secs(784_111_800), 0);
        });
        res!(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: later\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert_eq!(r.retry_after, None);
                assert_eq!(r.header("Retry-After"), Some(&b"later"[..]));
            }
        );
    }
}
