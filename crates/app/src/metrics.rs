//! Counters for `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const LOGIN_RESULTS: [&str; 7] = [
    "succeeded",
    "invalid_credentials",
    "login_locked",
    "login_disabled",
    "password_change_required",
    "second_factor_not_initialized",
    "server_busy",
];

/// Process-wide counters of one server instance.
#[derive(Default)]
pub struct Metrics {
    http: [AtomicU64; 5],
    logins: [AtomicU64; LOGIN_RESULTS.len()],
    hashes: AtomicU64,
    hash_micros: AtomicU64,
    hash_refused: AtomicU64,
    throttled: AtomicU64,
}

impl Metrics {
    /// Counts a response by status class.
    pub fn http(&self, status: u16) {
        let i = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(c) = self.http.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a login attempt by result name.
    pub fn login(&self, result: &str) {
        if let Some(i) = LOGIN_RESULTS.iter().position(|r| *r == result) {
            if let Some(c) = self.logins.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a finished hash and its duration.
    pub fn hash_done(&self, d: Duration) {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        self.hash_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a hash refused because the queue was full.
    pub fn hash_refused(&self) {
        self.hash_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an attempt refused by the throttle.
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders all metrics; `gauges` are extra point-in-time values.
    pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP sekisho_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(s, "# TYPE sekisho_http_responses_total counter");
        for (i, c) in self.http.iter().enumerate() {
            let _ = writeln!(
                s,
                "sekisho_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP sekisho_logins_total Password login attempts by result."
        );
        let _ = writeln!(s, "# TYPE sekisho_logins_total counter");
        for (r, c) in LOGIN_RESULTS.iter().zip(&self.logins) {
            let _ = writeln!(
                s,
                "sekisho_logins_total{{result=\"{r}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP sekisho_password_hash_seconds Time spent in Argon2id."
        );
        let _ = writeln!(s, "# TYPE sekisho_password_hash_seconds summary");
        let _ = writeln!(
            s,
            "sekisho_password_hash_seconds_sum {}",
            self.hash_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "sekisho_password_hash_seconds_count {}",
            self.hashes.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP sekisho_password_hash_refused_total Hashes refused with server_busy."
        );
        let _ = writeln!(s, "# TYPE sekisho_password_hash_refused_total counter");
        let _ = writeln!(
            s,
            "sekisho_password_hash_refused_total {}",
            self.hash_refused.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP sekisho_throttled_total Attempts refused with too_many_attempts by the throttle."
        );
        let _ = writeln!(s, "# TYPE sekisho_throttled_total counter");
        let _ = writeln!(
            s,
            "sekisho_throttled_total {}",
            self.throttled.load(Ordering::Relaxed)
        );
        for (name, help, v) in gauges {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(s, "# TYPE {name} gauge");
            let _ = writeln!(s, "{name} {v}");
        }
        s
    }
}
