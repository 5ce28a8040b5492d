//! Per-host politeness: at most N requests in flight to one host and a minimum spacing between
//! request starts. Rules are data: built-in defaults for hosts that publish their wishes, and
//! overrides from the command line (`--host-rule arxiv.org=1/3s`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Requests in flight at once to one host, unless a rule says otherwise.
pub const DEFAULT_PER_HOST: usize = 2;

/// Concurrency and spacing for one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRule {
    pub concurrency: usize,
    pub spacing: Duration,
}

impl Default for HostRule {
    fn default() -> Self {
        HostRule {
            concurrency: DEFAULT_PER_HOST,
            spacing: Duration::ZERO,
        }
    }
}

/// Hosts that ask automated clients to slow down. arXiv: one connection, one request every 3 s
/// (arxiv.org/help/api/tou); export.arxiv.org likewise.
pub fn builtin_rules() -> Vec<(String, HostRule)> {
    let arxiv = HostRule {
        concurrency: 1,
        spacing: Duration::from_secs(3),
    };
    vec![
        ("arxiv.org".into(), arxiv),
        ("export.arxiv.org".into(), arxiv),
    ]
}

/// Parses `HOST=N` or `HOST=N/DURATION` (e.g. `arxiv.org=1/3s`, `example.org=4`).
pub fn parse_rule(s: &str) -> Result<(String, HostRule), String> {
    let (host, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("host rule '{s}' should look like HOST=N or HOST=N/3s"))?;
    let (n, spacing) = match rest.split_once('/') {
        Some((n, d)) => (
            n,
            humantime::parse_duration(d)
                .map_err(|e| format!("host rule '{s}': bad spacing '{d}': {e}"))?,
        ),
        None => (rest, Duration::ZERO),
    };
    let concurrency: usize =
        n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            format!("host rule '{s}': '{n}' is not a positive number of requests")
        })?;
    Ok((
        host.trim().trim_start_matches("www.").to_ascii_lowercase(),
        HostRule {
            concurrency,
            spacing,
        },
    ))
}

struct HostState {
    slots: Arc<Semaphore>,
    spacing: Duration,
    next_start: tokio::sync::Mutex<Instant>,
    /// Set when the host said "slow down" (429, 503, Retry-After): no request of any link to
    /// it starts before then.
    not_before: Mutex<Option<Instant>>,
}

/// Hands out per-host permission to start a request.
pub struct HostGate {
    default: HostRule,
    rules: HashMap<String, HostRule>,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
}

/// Held while a request to a host is in flight.
pub struct HostPermit {
    _slot: OwnedSemaphorePermit,
}

impl HostGate {
    pub fn new(default: HostRule, rules: impl IntoIterator<Item = (String, HostRule)>) -> Self {
        HostGate {
            default,
            rules: rules.into_iter().collect(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn rule_for(&self, host: &str) -> HostRule {
        // The most specific rule wins: "export.arxiv.org" before "arxiv.org".
        let mut h = host;
        loop {
            if let Some(r) = self.rules.get(h) {
                return *r;
            }
            match h.split_once('.') {
                Some((_, parent)) if parent.contains('.') => h = parent,
                _ => return self.default,
            }
        }
    }

    /// Waits for a free slot on `host`, for any pause the host asked for, and for its spacing;
    /// gives up (`None`) if `abort` says so once a slot is free — before the waits, so a dead
    /// host's queue drains at once.
    pub async fn acquire_unless(&self, host: &str, abort: impl Fn() -> bool) -> Option<HostPermit> {
        let state = self.state(host);
        let slot = state
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        if abort() {
            return None;
        }
        // A pause may be set (or pushed back) while we sleep: look again after each wait.
        loop {
            let until = *state.not_before.lock().expect("pause lock");
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if !state.spacing.is_zero() {
            let mut next = state.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep_until(*next).await;
            }
            *next = Instant::now() + state.spacing;
        }
        Some(HostPermit { _slot: slot })
    }

    /// Holds every link of `host` back for `wait` (the host asked us to slow down). A later
    /// pause never shortens an earlier one.
    pub fn pause(&self, host: &str, wait: Duration) {
        let state = self.state(host);
        let until = Instant::now() + wait;
        let mut not_before = state.not_before.lock().expect("pause lock");
        if not_before.is_none_or(|t| t < until) {
            *not_before = Some(until);
        }
    }

    fn state(&self, host: &str) -> Arc<HostState> {
        let host = host.trim_start_matches("www.").to_ascii_lowercase();
        let mut hosts = self.hosts.lock().expect("host table lock");
        hosts
            .entry(host.clone())
            .or_insert_with(|| {
                let rule = self.rule_for(&host);
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(rule.concurrency)),
                    spacing: rule.spacing,
                    next_start: tokio::sync::Mutex::new(Instant::now()),
                    not_before: Mutex::new(None),
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        let (h, r) = parse_rule("www.ArXiv.org=1/3s").unwrap();
        assert_eq!(h, "arxiv.org");
        assert_eq!(r.concurrency, 1);
        assert_eq!(r.spacing, Duration::from_secs(3));
        assert_eq!(parse_rule("a.org=4").unwrap().1.spacing, Duration::ZERO);
        assert!(parse_rule("a.org").is_err());
        assert!(parse_rule("a.org=0").is_err());
        assert!(parse_rule("a.org=1/forever").is_err());
    }

    #[test]
    fn subdomains_inherit_rules() {
        let gate = HostGate::new(HostRule::default(), builtin_rules());
        assert_eq!(gate.rule_for("arxiv.org").concurrency, 1);
        assert_eq!(gate.rule_for("export.arxiv.org").concurrency, 1);
        assert_eq!(gate.rule_for("example.org"), HostRule::default());
    }

    #[tokio::test(start_paused = true)]
    async fn spacing_is_enforced() {
        let gate = HostGate::new(
            HostRule::default(),
            [(
                "slow.example".to_string(),
                HostRule {
                    concurrency: 4,
                    spacing: Duration::from_secs(2),
                },
            )],
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            drop(gate.acquire_unless("slow.example", || false).await);
        }
        assert!(t0.elapsed() >= Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_every_link_of_the_host() {
        let gate = HostGate::new(HostRule::default(), []);
        let t0 = Instant::now();
        gate.pause("busy.example", Duration::from_secs(5));
        gate.pause("busy.example", Duration::from_secs(1)); // never shortens
        drop(gate.acquire_unless("other.example", || false).await);
        assert!(t0.elapsed() < Duration::from_secs(1), "other hosts go on");
        drop(gate.acquire_unless("www.busy.example", || false).await);
        assert!(t0.elapsed() >= Duration::from_secs(5));
    }
}
