//! Familiar browsers (trusted devices): after a second factor, a customer may let a browser or
//! app skip it for a while (JTG: "skip on a familiar PC for a period"; Gungin: no e-mail code on
//! a familiar device, but TOTP users always enter their code). The record lives in the database;
//! the browser holds only a random token.

/// The firm's rules for familiar browsers (the `devices.*` settings).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicePolicy {
    /// Days a browser stays familiar after the second factor that made it so.
    pub remember_days: u32,
    /// Second-factor methods a familiar browser may skip (`email`, `totp`).
    pub allowed_methods: Vec<String>,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        DevicePolicy {
            remember_days: 30,
            allowed_methods: vec!["email".to_owned()],
        }
    }
}

impl DevicePolicy {
    /// How long a browser stays familiar, in seconds.
    pub fn remember_secs(&self) -> i64 {
        i64::from(self.remember_days) * 86_400
    }

    /// Whether a browser may be remembered for, and skip, this method.
    pub fn allows(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|m| m == method)
    }
}

/// A short label for a device, from its User-Agent: `Chrome on Windows`, `Safari on iPhone`, or
/// the app's product name.
pub fn label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "unknown browser".to_owned();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| (*name).to_owned())
    .unwrap_or_else(|| {
        ua.split(['/', ' '])
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect()
    });
    let os = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Macintosh", "macOS"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_browser_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(label(Some(chrome)), "Chrome on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(label(Some(safari)), "Safari on iPhone");
        assert_eq!(label(Some("KabuTrader/3.2")), "KabuTrader");
        assert_eq!(label(None), "unknown browser");
        assert!(DevicePolicy::default().allows("email"));
        assert!(!DevicePolicy::default().allows("totp"));
    }
}
