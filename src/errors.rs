//! Error text for people: an error and its causes on one line, each said once.

use std::error::Error;

/// `error: cause: cause` — the whole chain, as `{:#}` prints an `anyhow` error. For errors that
/// become part of a report (a failed link's reason) rather than propagating.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(cause) = cur {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        cur = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = crate::store::StoreError::Io {
            path: "lib/docs/a.json".into(),
            source: io,
        };
        assert_eq!(chain(&e), "library lib/docs/a.json: denied");
        let e = anyhow::Error::new(e).context("cannot save");
        assert_eq!(
            format!("{e:#}"),
            "cannot save: library lib/docs/a.json: denied"
        );
    }
}
