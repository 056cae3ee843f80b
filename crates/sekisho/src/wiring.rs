//! From configuration to a running server: master key, store, hashing pool, and the settings
//! [`Config::load`] resolved. `sekisho serve` and the API tests' `spawn_app` both build their
//! state here.

use crate::config::Config;
use anyhow::{anyhow, Context, Result};
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_app::HashPool;
use sekisho_core::clock::random_bytes;
use sekisho_core::password::{HashParams, PasswordHasher};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Clock, Random};
use sekisho_server::AppState;
use sekisho_store::{ConnectOptions, SqliteSynchronous, Store};
use std::path::Path;
use std::sync::Arc;

/// The master key for secrets at rest: configured, or generated in the data folder once.
pub fn master_key(config: &Config) -> Result<[u8; 32]> {
    if let Some(k) = config.master_key.as_deref().filter(|k| !k.is_empty()) {
        return parse(k, "master_key");
    }
    if let Some(file) = &config.master_key_file {
        return read_key_file(file, "master_key_file");
    }
    let file = config.data_dir.join("master.key");
    if file.exists() {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        return parse(&text, &file.display().to_string());
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let key: [u8; 32] = random_bytes(&OsRandom);
    write_private(&file, &hex::encode(key))?;
    tracing::warn!(
        path = %file.display(),
        "generated a new master key in the data folder; this is for development only: production \
         supplies its own key (SEKISHO_MASTER_KEY or master_key_file), the same on every instance, \
         kept apart from the database backups"
    );
    Ok(key)
}

fn parse(hex_text: &str, from: &str) -> Result<[u8; 32]> {
    let bytes =
        hex::decode(hex_text.trim()).map_err(|_| anyhow!("the master key in {from} is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("the master key in {from} must be 32 bytes (64 hex characters)"))
}

/// A master key from a file holding it in hex (`what` names the setting, for errors).
pub fn read_key_file(file: &Path, what: &str) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {what} {}", file.display()))?;
    parse(&text, &file.display().to_string())
}

/// The keys that only open (`extra_master_key_files`), during a rotation.
pub fn extra_master_keys(config: &Config) -> Result<Vec<[u8; 32]>> {
    config
        .extra_master_key_files
        .iter()
        .map(|f| read_key_file(f, "extra_master_key_files entry"))
        .collect()
}

/// The keyring of secrets at rest — the master key seals, the extra keys only open — with the
/// deployment's code-hash key (kept in the database on first need).
pub async fn secrets(
    config: &Config,
    store: &dyn sekisho_store::Store,
    clock: &dyn Clock,
    rng: &dyn Random,
) -> Result<SecretBox> {
    let current = master_key(config)?;
    let ring = SecretBox::keyring(&current, &extra_master_keys(config)?);
    let mac = sekisho_core::secret_box::derived_mac_key(&current);
    Ok(sekisho_app::master_key::with_kept_mac_key(store, ring, mac, rng, clock.now()).await?)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Connects to the configured database (running migrations).
pub async fn store(config: &Config) -> Result<Arc<dyn Store>> {
    let url = config.database_url()?;
    let sqlite_synchronous = sqlite_synchronous(config)?;
    sekisho_store::connect(&ConnectOptions {
        url,
        max_connections: config.database_max_connections,
        sqlite_synchronous,
    })
    .await
    .map_err(|e| anyhow!("cannot open the database: {e}"))
}

/// How SQLite commits are made durable.
pub fn sqlite_synchronous(config: &Config) -> Result<SqliteSynchronous> {
    SqliteSynchronous::parse(&config.database_sqlite_synchronous)
        .ok_or_else(|| anyhow!("database_sqlite_synchronous must be normal or full"))
}

/// Builds the whole server state, as `sekisho serve` runs it.
pub async fn app_state(config: &Config) -> Result<AppState> {
    app_state_with(config, Arc::new(SystemClock), Arc::new(OsRandom)).await
}

/// Builds the whole server state with the given clock and randomness (tests move the clock).
pub async fn app_state_with(
    config: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
) -> Result<AppState> {
    let store = store(config).await?;
    let secrets = secrets(config, store.as_ref(), clock.as_ref(), rng.as_ref()).await?;
    let p = &config.settings.password;
    let hasher = PasswordHasher::new(HashParams {
        memory_kib: p.argon2_memory_kib,
        iterations: p.argon2_iterations,
        parallelism: p.argon2_parallelism,
    })
    .map_err(|e| anyhow!("password.argon2_*: {e}"))?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let concurrency = p.hash_concurrency.map(|c| c as usize).unwrap_or(cores);
    let dummy = hex::encode(random_bytes::<16>(rng.as_ref()));
    let hashes = HashPool::new(
        hasher,
        concurrency,
        p.hash_queue_limit as usize,
        &dummy,
        random_bytes(rng.as_ref()),
    )
    .map_err(|e| anyhow!("cannot prepare password hashing: {e}"))?;
    Ok(AppState::new(
        store,
        clock,
        rng,
        config.settings.clone(),
        hashes,
        secrets,
    ))
}

/// The HTTP transport (`server.*`, `tls.*`), checked; the TLS files are read now.
pub fn transport(config: &Config) -> Result<sekisho_server::Transport> {
    let mut t = config.server.transport()?;
    t.tls = config.tls.load()?;
    Ok(t)
}
