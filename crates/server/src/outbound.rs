//! Sekisho's outbound HTTP: the client that delivers back-channel logout tokens to relying
//! parties ([`sekisho_app::oidc::backchannel::LogoutPoster`]). rustls with the public (webpki)
//! roots and the CA certificates of `oidc.backchannel_ca_file`, no redirects followed (a
//! redirect is not a delivery), `oidc.backchannel_timeout_secs` for the whole exchange.

use sekisho_app::oidc::backchannel::LogoutPoster;
use sekisho_app::oidc::OidcSettings;
use std::time::Duration;

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
        if !settings.backchannel_ca_file.is_empty() {
            let pem = std::fs::read(&settings.backchannel_ca_file)
                .map_err(|e| format!("oidc.backchannel_ca_file: {e}"))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("oidc.backchannel_ca_file: {e}"))?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
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
