//! Sekisho's outbound HTTP: the client that delivers back-channel logout tokens to relying
//! parties ([`sekisho_app::oidc::backchannel::LogoutPoster`]) and the one that fetches their
//! key sets from `jwks_uri` ([`HttpJwks`]). rustls with the public (webpki)
//! roots and the CA certificates of `oidc.backchannel_ca_file`, no redirects followed (a
//! redirect is not a delivery), `oidc.backchannel_timeout_secs` for the whole exchange.

use sekisho_app::oidc::backchannel::LogoutPoster;
use sekisho_app::oidc::jwks_uri::{JwksFetcher, MAX_JWKS_BYTES};
use sekisho_app::oidc::OidcSettings;
use std::time::Duration;

/// The CA certificates of `oidc.backchannel_ca_file` (none when unset).
fn extra_roots(settings: &OidcSettings) -> Result<Vec<reqwest::Certificate>, String> {
    if settings.backchannel_ca_file.is_empty() {
        return Ok(Vec::new());
    }
    let pem = std::fs::read(&settings.backchannel_ca_file)
        .map_err(|e| format!("oidc.backchannel_ca_file: {e}"))?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("oidc.backchannel_ca_file: {e}"))
}

/// The back-channel logout client.
pub struct HttpPoster(reqwest::Client);

impl HttpPoster {
    /// Builds the client; an error names the setting at fault.
    pub fn new(settings: &OidcSettings) -> Result<HttpPoster, String> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(settings.backchannel_timeout_secs))
            .user_agent(concat!("Sekisho/", env!("CARGO_PKG_VERSION")));
        for c in extra_roots(settings)? {
            b = b.add_root_certificate(c);
        }
        b.build()
            .map(HttpPoster)
            .map_err(|e| format!("back-channel logout client: {e}"))
    }
}

#[async_trait::async_trait]
impl LogoutPoster for HttpPoster {
    async fn post_form(&self, uri: &str, form: &[(&str, &str)]) -> Result<u16, String> {
        self.0
            .post(uri)
            .form(form)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    }
}

/// Fetches clients' key sets from their `jwks_uri`
/// ([`sekisho_app::oidc::jwks_uri::JwksFetcher`]): `https` only, a redirect followed only to
/// another `https` URL (at most 3), `oidc.jwks_timeout_secs` for the whole exchange, at most
/// [`MAX_JWKS_BYTES`] read; the same TLS roots as the back-channel logouts.
pub struct HttpJwks(reqwest::Client);

impl HttpJwks {
    /// Builds the client; an error names the setting at fault.
    pub fn new(settings: &OidcSettings) -> Result<HttpJwks, String> {
        let policy = reqwest::redirect::Policy::custom(|a| {
            if a.url().scheme() != "https" || a.previous().len() >= 3 {
                a.stop()
            } else {
                a.follow()
            }
        });
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .redirect(policy)
            .timeout(Duration::from_secs(settings.jwks_timeout_secs))
            .user_agent(concat!("Sekisho/", env!("CARGO_PKG_VERSION")));
        for c in extra_roots(settings)? {
            b = b.add_root_certificate(c);
        }
        b.build()
            .map(HttpJwks)
            .map_err(|e| format!("jwks_uri client: {e}"))
    }
}

#[async_trait::async_trait]
impl JwksFetcher for HttpJwks {
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, String> {
        if !uri.starts_with("https://") {
            return Err("jwks_uri must be https".into());
        }
        let mut r = self.0.get(uri).send().await.map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("the answer was {}", r.status().as_u16()));
        }
        if r.content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
            }
        }
        Ok(body)
    }
}
