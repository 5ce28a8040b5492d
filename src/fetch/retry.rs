//! When to try a request again, and how long to wait first: one small predicate and a doubling
//! backoff with jitter, capped, with the server's `Retry-After` taking precedence.

use std::time::{Duration, SystemTime};

/// How many attempts one request gets in all (the first plus retries).
pub const DEFAULT_ATTEMPTS: u32 = 4;
/// The first backoff; each retry doubles it.
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// The longest single wait, whatever `Retry-After` asks for.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// Statuses worth another try: the server said "later", or failed for its own reasons.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status)
}

/// The wait before retry number `retry` (0-based): `Retry-After` when the server gave one,
/// else exponential backoff with up to 50% jitter; never more than `MAX_DELAY`.
pub fn delay(retry: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(MAX_DELAY);
    }
    let base = BASE_DELAY.saturating_mul(1 << retry.min(10));
    let jitter = base.mul_f64(jitter_fraction() * 0.5);
    (base + jitter).min(MAX_DELAY)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A cheap, good-enough random fraction in [0, 1) for jitter; no need for a CSPRNG here.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() % 10_000) as f64 / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_statuses_retry() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 410] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert!(delay(0, None) >= BASE_DELAY && delay(0, None) <= BASE_DELAY * 2);
        assert!(delay(2, None) >= BASE_DELAY * 4);
        assert_eq!(delay(20, None), MAX_DELAY);
        assert_eq!(
            delay(0, Some(Duration::from_secs(3600))),
            MAX_DELAY,
            "Retry-After is bounded"
        );
    }
}
