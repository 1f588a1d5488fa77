//! Typed configuration, read once from `ANDON_*` environment variables.
//!
//! Every setting has one line in [`Config::from_vars`] and one row in the README's
//! configuration table. Values are validated here, at start, so a typo stops the
//! process with an error naming the variable instead of failing at the first request.
//! Secrets are wrapped so that neither `Debug` nor a log line can print them.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            other => Err(format!("expected `human` or `json`, got `{other}`")),
        }
    }
}

/// A 32-byte AES-256 key. Never printed.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    fn parse_base64(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "not valid standard base64".to_string())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("must decode to exactly 32 bytes, got {}", b.len()))?;
        Ok(Self::from_bytes(bytes))
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.expose())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// Database connection settings: all that `andon migrate` needs.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// May carry a password, hence secret.
    pub url: SecretString,
    pub pool_size: usize,
    /// How long a request waits for a pooled connection (and for a new one to open)
    /// before it fails with 503 instead of hanging.
    pub connect_timeout: Duration,
    /// Longest statement of a request before PostgreSQL cancels it.
    pub statement_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Where uploaded files are kept.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    Local(std::path::PathBuf),
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: String,
    /// Where browsers reach the same S3 server (`ANDON_S3_PUBLIC_ENDPOINT`): when
    /// set, downloads are redirects to URLs presigned for it; when not, Andon
    /// streams objects itself (docs/ARCHITECTURE.md, Files).
    pub public_endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key: SecretString,
    pub secret_key: SecretString,
}

/// Upload limits (PRODUCT.md F1) and allowed types.
#[derive(Debug, Clone)]
pub struct FileLimits {
    pub image_bytes: u64,
    pub document_bytes: u64,
    pub text_bytes: u64,
    /// Allowed MIME types, as sniffed from the bytes.
    pub allowed_types: Vec<String>,
}

/// Incident reports (issue 18): the pool they run on and how they are written.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// Reports built at once in this process; the rest wait in the queue.
    pub workers: usize,
    /// Reports waiting or running in this process before new ones get 503.
    pub queue: usize,
    /// Times in reports are shown in this zone (IANA name).
    pub time_zone: chrono_tz::Tz,
    /// Images embedded in one report; later ones are listed with their hash only.
    pub max_images: usize,
    /// An on-premise model that writes the Summary and Resolution process;
    /// `None`: nothing is sent anywhere and those sections come from the record.
    pub llm: Option<LlmConfig>,
}

/// An OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp).
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL; requests go to `<url>/v1/chat/completions`.
    pub url: String,
    pub model: String,
    pub api_key: Option<SecretString>,
    pub timeout: Duration,
}

fn reports_from_vars(vars: &Vars) -> Result<ReportConfig, ConfigError> {
    let zone = vars.get("ANDON_TIMEZONE").unwrap_or("Asia/Taipei");
    let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
        ConfigError::new(
            "ANDON_TIMEZONE",
            format!("`{zone}` is not an IANA time zone (e.g. Asia/Taipei, Europe/Berlin, UTC)"),
        )
    })?;
    let llm = match vars.get("ANDON_LLM_URL") {
        None => None,
        Some(raw) => {
            let url = raw.trim_end_matches('/').to_string();
            match reqwest::Url::parse(&url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(ConfigError::new(
                        "ANDON_LLM_URL",
                        "must be an http:// or https:// URL",
                    ));
                }
            }
            Some(LlmConfig {
                url,
                model: vars
                    .get("ANDON_LLM_MODEL")
                    .unwrap_or("llama3.1")
                    .to_string(),
                api_key: vars
                    .get("ANDON_LLM_API_KEY")
                    .map(|k| SecretString::from(k.to_string())),
                timeout: vars.secs_or("ANDON_LLM_TIMEOUT_SECS", 60)?,
            })
        }
    };
    Ok(ReportConfig {
        workers: vars.positive("ANDON_REPORT_WORKERS", 2)?,
        queue: vars.positive("ANDON_REPORT_QUEUE", 32)?,
        time_zone,
        max_images: vars.positive("ANDON_REPORT_MAX_IMAGES", 100)?,
        llm,
    })
}

pub const ALL_FILE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
];

/// Everything `andon serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub workers: usize,
    pub database: DatabaseConfig,
    pub ad_url: String,
    pub ad_timeout: Duration,
    pub secret_key: SecretKey,
    /// Keys that decrypted earlier ciphertexts; new ones always use `secret_key`.
    pub old_secret_keys: Vec<SecretKey>,
    pub admins: Vec<String>,
    pub refresh_threshold: Duration,
    pub refresh_retry: Duration,
    pub inactivity: Duration,
    pub edit_window: Duration,
    /// Rejected logins per account that may reach AD within `login_failure_window`:
    /// below AD's lockout threshold.
    pub login_max_failures: std::num::NonZeroU32,
    pub login_failure_window: Duration,
    pub login_addr_limit_per_minute: std::num::NonZeroU32,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub shutdown_timeout: Duration,
    pub storage: StorageConfig,
    /// Certificate chain and private key (PEM) to terminate TLS in the server.
    pub tls: Option<TlsConfig>,
    /// The built web client, when there is one.
    pub web_dir: Option<std::path::PathBuf>,
    /// NATS server of a cluster of nodes on one database; `None`: a single node.
    pub nats_url: Option<String>,
    pub file_limits: FileLimits,
    pub ws_queue_frames: usize,
    pub ws_queue_bytes: usize,
    pub ws_sockets_per_session: usize,
    pub ws_subscriptions_per_socket: usize,
    pub ws_tickets_per_minute: u32,
    pub ws_ping_interval: Duration,
    pub ws_idle_timeout: Duration,
    pub reports: ReportConfig,
    /// `ANDON_*` variables that were set but mean nothing to Andon (typos); logged at start.
    pub unknown_vars: Vec<String>,
}

/// Every variable Andon reads; anything else starting with `ANDON_` is reported.
const KNOWN: &[&str] = &[
    "ANDON_LISTEN",
    "ANDON_WORKERS",
    "ANDON_DATABASE_URL",
    "ANDON_DATABASE_POOL_SIZE",
    "ANDON_DATABASE_TIMEOUT_SECS",
    "ANDON_DATABASE_STATEMENT_TIMEOUT_SECS",
    "ANDON_AD_URL",
    "ANDON_AD_TIMEOUT_SECS",
    "ANDON_SECRET_KEY",
    "ANDON_OLD_SECRET_KEYS",
    "ANDON_ADMINS",
    "ANDON_REFRESH_THRESHOLD_SECS",
    "ANDON_REFRESH_RETRY_SECS",
    "ANDON_INACTIVITY_SECS",
    "ANDON_EDIT_WINDOW_SECS",
    "ANDON_LOGIN_MAX_FAILURES",
    "ANDON_LOGIN_FAILURE_WINDOW_SECS",
    "ANDON_LOGIN_ADDR_LIMIT_PER_MINUTE",
    "ANDON_LOG",
    "ANDON_LOG_FORMAT",
    "ANDON_SHUTDOWN_TIMEOUT_SECS",
    "ANDON_STORAGE",
    "ANDON_WEB_DIR",
    "ANDON_NATS_URL",
    "ANDON_TLS_CERT",
    "ANDON_TLS_KEY",
    "ANDON_S3_ENDPOINT",
    "ANDON_S3_PUBLIC_ENDPOINT",
    "ANDON_S3_BUCKET",
    "ANDON_S3_REGION",
    "ANDON_S3_ACCESS_KEY",
    "ANDON_S3_SECRET_KEY",
    "ANDON_MAX_IMAGE_BYTES",
    "ANDON_MAX_DOCUMENT_BYTES",
    "ANDON_MAX_TEXT_BYTES",
    "ANDON_ALLOWED_TYPES",
    "ANDON_WS_QUEUE_FRAMES",
    "ANDON_WS_QUEUE_BYTES",
    "ANDON_WS_SOCKETS_PER_SESSION",
    "ANDON_WS_SUBSCRIPTIONS_PER_SOCKET",
    "ANDON_WS_TICKETS_PER_MINUTE",
    "ANDON_WS_PING_SECS",
    "ANDON_WS_IDLE_SECS",
    "ANDON_TIMEZONE",
    "ANDON_REPORT_WORKERS",
    "ANDON_REPORT_QUEUE",
    "ANDON_REPORT_MAX_IMAGES",
    "ANDON_LLM_URL",
    "ANDON_LLM_MODEL",
    "ANDON_LLM_API_KEY",
    "ANDON_LLM_TIMEOUT_SECS",
];

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/andon";

/// The environment seen as a map; empty values count as unset.
struct Vars(BTreeMap<String, String>);

impl Vars {
    fn get(&self, name: &'static str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn parse_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|e| ConfigError::new(name, format!("cannot parse `{raw}`: {e}"))),
        }
    }

    /// Seconds as a `Duration`; must be positive.
    fn secs_or(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        let secs: u64 = self.parse_or(name, default)?;
        if secs == 0 {
            return Err(ConfigError::new(name, "must be at least 1 second"));
        }
        Ok(Duration::from_secs(secs))
    }

    fn positive(&self, name: &'static str, default: usize) -> Result<usize, ConfigError> {
        let n: usize = self.parse_or(name, default)?;
        if n == 0 {
            return Err(ConfigError::new(name, "must be at least 1"));
        }
        Ok(n)
    }
}

impl DatabaseConfig {
    fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let url = vars
            .get("ANDON_DATABASE_URL")
            .unwrap_or(DEFAULT_DATABASE_URL);
        // Parse now so a malformed URL is reported at start, naming the variable.
        // The parser's message never contains the password.
        url.parse::<tokio_postgres::Config>().map_err(|e| {
            ConfigError::new(
                "ANDON_DATABASE_URL",
                format!("not a valid PostgreSQL URL: {e}"),
            )
        })?;
        Ok(Self {
            url: SecretString::from(url.to_string()),
            pool_size: vars.positive("ANDON_DATABASE_POOL_SIZE", 16)?,
            connect_timeout: vars.secs_or("ANDON_DATABASE_TIMEOUT_SECS", 5)?,
            statement_timeout: vars.secs_or("ANDON_DATABASE_STATEMENT_TIMEOUT_SECS", 15)?,
        })
    }

    /// Database settings alone, from the process environment (`andon migrate`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars(std::env::vars().collect()))
    }
}

const MIB: u64 = 1024 * 1024;

fn storage_from_vars(vars: &Vars) -> Result<StorageConfig, ConfigError> {
    let spec = vars.get("ANDON_STORAGE").unwrap_or("local:./data/files");
    if let Some(dir) = spec.strip_prefix("local:") {
        if dir.is_empty() {
            return Err(ConfigError::new(
                "ANDON_STORAGE",
                "local: needs a directory, e.g. local:/var/lib/andon/files",
            ));
        }
        return Ok(StorageConfig::Local(dir.into()));
    }
    if spec != "s3" {
        return Err(ConfigError::new(
            "ANDON_STORAGE",
            format!("expected `local:<dir>` or `s3`, got `{spec}`"),
        ));
    }
    let required = |name: &'static str| {
        vars.get(name)
            .map(str::to_string)
            .ok_or_else(|| ConfigError::new(name, "required when ANDON_STORAGE=s3"))
    };
    let http_url = |name: &'static str, url: &str| {
        if matches!(
            reqwest::Url::parse(url)
                .map(|u| u.scheme().to_string())
                .as_deref(),
            Ok("http" | "https")
        ) {
            Ok(())
        } else {
            Err(ConfigError::new(name, "must be an http:// or https:// URL"))
        }
    };
    let endpoint = required("ANDON_S3_ENDPOINT")?;
    http_url("ANDON_S3_ENDPOINT", &endpoint)?;
    let public_endpoint = vars
        .get("ANDON_S3_PUBLIC_ENDPOINT")
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    if let Some(public) = &public_endpoint {
        http_url("ANDON_S3_PUBLIC_ENDPOINT", public)?;
    }
    Ok(StorageConfig::S3(S3Config {
        endpoint,
        public_endpoint,
        bucket: required("ANDON_S3_BUCKET")?,
        region: vars
            .get("ANDON_S3_REGION")
            .unwrap_or("us-east-1")
            .to_string(),
        access_key: SecretString::from(required("ANDON_S3_ACCESS_KEY")?),
        secret_key: SecretString::from(required("ANDON_S3_SECRET_KEY")?),
    }))
}

fn allowed_types(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let Some(list) = vars.get("ANDON_ALLOWED_TYPES") else {
        return Ok(ALL_FILE_TYPES.iter().map(ToString::to_string).collect());
    };
    list.split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .map(|t| {
            if ALL_FILE_TYPES.contains(&t.as_str()) {
                Ok(t)
            } else {
                Err(ConfigError::new(
                    "ANDON_ALLOWED_TYPES",
                    format!("`{t}` is not one of: {}", ALL_FILE_TYPES.join(", ")),
                ))
            }
        })
        .collect()
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables; tests pass their own instead of touching the
    /// process environment.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );

        let listen = vars.parse_or("ANDON_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let default_workers =
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let ad_url = vars
            .get("ANDON_AD_URL")
            .unwrap_or("http://127.0.0.1:8081")
            .trim_end_matches('/')
            .to_string();
        match reqwest::Url::parse(&ad_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(_) => {
                return Err(ConfigError::new(
                    "ANDON_AD_URL",
                    "must be an http:// or https:// URL",
                ));
            }
            Err(e) => {
                return Err(ConfigError::new(
                    "ANDON_AD_URL",
                    format!("not a valid URL: {e}"),
                ));
            }
        }

        let secret_key = match vars.get("ANDON_SECRET_KEY") {
            None => {
                return Err(ConfigError::new(
                    "ANDON_SECRET_KEY",
                    "required: 32 random bytes in standard base64 \
                     (generate one with `openssl rand -base64 32`)",
                ));
            }
            Some(raw) => {
                SecretKey::parse_base64(raw).map_err(|p| ConfigError::new("ANDON_SECRET_KEY", p))?
            }
        };
        let old_secret_keys = vars
            .get("ANDON_OLD_SECRET_KEYS")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(i, raw)| {
                SecretKey::parse_base64(raw).map_err(|p| {
                    ConfigError::new("ANDON_OLD_SECRET_KEYS", format!("key {}: {p}", i + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let admins = vars
            .get("ANDON_ADMINS")
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.contains('@') {
                    Ok(s)
                } else {
                    Err(ConfigError::new(
                        "ANDON_ADMINS",
                        format!("`{s}` is not an e-mail address"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;

        let refresh_threshold = vars.secs_or("ANDON_REFRESH_THRESHOLD_SECS", 300)?;
        let refresh_retry = vars.secs_or("ANDON_REFRESH_RETRY_SECS", 30)?;
        let inactivity = vars.secs_or("ANDON_INACTIVITY_SECS", 259_200)?;
        let edit_window = vars.secs_or("ANDON_EDIT_WINDOW_SECS", 900)?;

        let unknown_vars = vars
            .0
            .keys()
            .filter(|k| k.starts_with("ANDON_") && !KNOWN.contains(&k.as_str()))
            .cloned()
            .collect();

        Ok(Self {
            listen,
            workers: vars.positive("ANDON_WORKERS", default_workers)?,
            database: DatabaseConfig::from_vars(&vars)?,
            ad_url,
            ad_timeout: vars.secs_or("ANDON_AD_TIMEOUT_SECS", 10)?,
            secret_key,
            old_secret_keys,
            admins,
            refresh_threshold,
            refresh_retry,
            inactivity,
            edit_window,
            login_max_failures: vars.parse_or(
                "ANDON_LOGIN_MAX_FAILURES",
                std::num::NonZeroU32::new(3).expect("3 is not zero"),
            )?,
            login_failure_window: vars.secs_or("ANDON_LOGIN_FAILURE_WINDOW_SECS", 900)?,
            login_addr_limit_per_minute: vars.parse_or(
                "ANDON_LOGIN_ADDR_LIMIT_PER_MINUTE",
                std::num::NonZeroU32::new(300).expect("300 is not zero"),
            )?,
            log_format: vars.parse_or("ANDON_LOG_FORMAT", LogFormat::Human)?,
            log_filter: vars.get("ANDON_LOG").unwrap_or("info").to_string(),
            shutdown_timeout: vars.secs_or("ANDON_SHUTDOWN_TIMEOUT_SECS", 30)?,
            storage: storage_from_vars(&vars)?,
            tls: match (vars.get("ANDON_TLS_CERT"), vars.get("ANDON_TLS_KEY")) {
                (None, None) => None,
                (Some(cert), Some(key)) => {
                    for (var, path) in [("ANDON_TLS_CERT", cert), ("ANDON_TLS_KEY", key)] {
                        if !std::path::Path::new(path).is_file() {
                            return Err(ConfigError::new(
                                var,
                                format!("{path} is not a readable file"),
                            ));
                        }
                    }
                    Some(TlsConfig {
                        cert: cert.into(),
                        key: key.into(),
                    })
                }
                (Some(_), None) => {
                    return Err(ConfigError::new(
                        "ANDON_TLS_KEY",
                        "required with ANDON_TLS_CERT",
                    ));
                }
                (None, Some(_)) => {
                    return Err(ConfigError::new(
                        "ANDON_TLS_CERT",
                        "required with ANDON_TLS_KEY",
                    ));
                }
            },
            nats_url: vars.get("ANDON_NATS_URL").map(str::to_string),
            web_dir: match vars.get("ANDON_WEB_DIR") {
                Some(dir) if std::path::Path::new(dir).join("index.html").is_file() => {
                    Some(dir.into())
                }
                Some(dir) => {
                    return Err(ConfigError::new(
                        "ANDON_WEB_DIR",
                        format!(
                            "{dir}/index.html does not exist: build the web client first (npm run build in web/)"
                        ),
                    ));
                }
                None => Some(std::path::PathBuf::from("web/dist"))
                    .filter(|d| d.join("index.html").is_file()),
            },
            file_limits: FileLimits {
                image_bytes: vars.parse_or("ANDON_MAX_IMAGE_BYTES", 10 * MIB)?,
                document_bytes: vars.parse_or("ANDON_MAX_DOCUMENT_BYTES", 20 * MIB)?,
                text_bytes: vars.parse_or("ANDON_MAX_TEXT_BYTES", 5 * MIB)?,
                allowed_types: allowed_types(&vars)?,
            },
            ws_queue_frames: vars.positive("ANDON_WS_QUEUE_FRAMES", 1024)?,
            ws_queue_bytes: vars.positive("ANDON_WS_QUEUE_BYTES", 8 * MIB as usize)?,
            ws_sockets_per_session: vars.positive("ANDON_WS_SOCKETS_PER_SESSION", 20)?,
            ws_subscriptions_per_socket: vars.positive("ANDON_WS_SUBSCRIPTIONS_PER_SOCKET", 200)?,
            ws_tickets_per_minute: u32::try_from(vars.positive("ANDON_WS_TICKETS_PER_MINUTE", 60)?)
                .unwrap_or(u32::MAX),
            ws_ping_interval: vars.secs_or("ANDON_WS_PING_SECS", 20)?,
            ws_idle_timeout: vars.secs_or("ANDON_WS_IDLE_SECS", 60)?,
            reports: reports_from_vars(&vars)?,
            unknown_vars,
        })
    }

    pub fn is_admin(&self, email: &str) -> bool {
        self.admins.iter().any(|a| a.eq_ignore_ascii_case(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn with(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars = vec![("ANDON_SECRET_KEY", KEY)];
        vars.extend_from_slice(extra);
        Config::from_vars(vars)
    }

    #[test]
    fn defaults_apply_when_only_the_key_is_set() {
        let c = with(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.refresh_threshold, Duration::from_secs(300));
        assert_eq!(c.inactivity, Duration::from_secs(259_200));
        assert_eq!(c.edit_window, Duration::from_secs(900));
        assert_eq!(c.login_max_failures.get(), 3);
        assert_eq!(c.login_failure_window, Duration::from_secs(900));
        assert_eq!(c.log_format, LogFormat::Human);
        assert_eq!(c.secret_key.expose()[31], 31);
    }

    #[test]
    fn missing_secret_key_names_the_variable() {
        let err = Config::from_vars(Vec::<(String, String)>::new()).unwrap_err();
        assert_eq!(err.variable, "ANDON_SECRET_KEY");
        assert!(err.to_string().starts_with("ANDON_SECRET_KEY: required"));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let cases = [
            ("ANDON_LISTEN", "localhost"),
            ("ANDON_SECRET_KEY", "c2hvcnQ="),
            ("ANDON_SECRET_KEY", "!!not base64!!"),
            ("ANDON_INACTIVITY_SECS", "three days"),
            ("ANDON_REFRESH_THRESHOLD_SECS", "0"),
            ("ANDON_AD_URL", "ftp://ad.example"),
            ("ANDON_AD_URL", "not a url"),
            ("ANDON_DATABASE_URL", "postgres://host:notaport/db"),
            ("ANDON_LOG_FORMAT", "xml"),
            ("ANDON_ADMINS", "alice"),
            ("ANDON_OLD_SECRET_KEYS", "c2hvcnQ="),
            ("ANDON_DATABASE_POOL_SIZE", "0"),
            ("ANDON_STORAGE", "ftp:/x"),
            ("ANDON_ALLOWED_TYPES", "application/x-msdownload"),
            ("ANDON_MAX_IMAGE_BYTES", "ten"),
            ("ANDON_LOGIN_MAX_FAILURES", "0"),
            ("ANDON_LOGIN_FAILURE_WINDOW_SECS", "0"),
            ("ANDON_TIMEZONE", "Taipei"),
            ("ANDON_REPORT_WORKERS", "0"),
            ("ANDON_LLM_URL", "ollama:11434"),
        ];
        for (var, value) in cases {
            let err = with(&[(var, value)]).expect_err(var);
            assert_eq!(err.variable, var, "{var}={value}: {err}");
        }
    }

    #[test]
    fn s3_storage_requires_its_settings() {
        let err = with(&[("ANDON_STORAGE", "s3")]).unwrap_err();
        assert_eq!(err.variable, "ANDON_S3_ENDPOINT");
        let c = with(&[
            ("ANDON_STORAGE", "s3"),
            ("ANDON_S3_ENDPOINT", "http://127.0.0.1:3900"),
            ("ANDON_S3_BUCKET", "andon"),
            ("ANDON_S3_ACCESS_KEY", "GK1"),
            ("ANDON_S3_SECRET_KEY", "very-secret"),
        ])
        .unwrap();
        assert!(
            matches!(c.storage, StorageConfig::S3(ref s) if s.bucket == "andon" && s.region == "us-east-1" && s.public_endpoint.is_none())
        );
        assert!(!format!("{c:?}").contains("very-secret"));
        let s3 = [
            ("ANDON_STORAGE", "s3"),
            ("ANDON_S3_ENDPOINT", "http://minio:9000"),
            ("ANDON_S3_BUCKET", "andon"),
            ("ANDON_S3_ACCESS_KEY", "GK1"),
            ("ANDON_S3_SECRET_KEY", "very-secret"),
        ];
        let c = with(
            &[
                &s3[..],
                &[("ANDON_S3_PUBLIC_ENDPOINT", "https://files.plant.example")],
            ]
            .concat(),
        )
        .unwrap();
        assert!(
            matches!(c.storage, StorageConfig::S3(ref s) if s.public_endpoint.as_deref() == Some("https://files.plant.example"))
        );
        let err = with(
            &[
                &s3[..],
                &[("ANDON_S3_PUBLIC_ENDPOINT", "files.plant.example")],
            ]
            .concat(),
        )
        .unwrap_err();
        assert_eq!(err.variable, "ANDON_S3_PUBLIC_ENDPOINT");
    }

    #[test]
    fn admins_are_normalised_and_matched_case_insensitively() {
        let c = with(&[("ANDON_ADMINS", " Alice@Plant.Example , bob@plant.example,")]).unwrap();
        assert_eq!(c.admins, ["alice@plant.example", "bob@plant.example"]);
        assert!(c.is_admin("ALICE@plant.example"));
        assert!(!c.is_admin("carol@plant.example"));
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let c = with(&[(
            "ANDON_DATABASE_URL",
            "postgres://andon:hunter2@db.example/andon",
        )])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains(KEY), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn reports_use_taipei_time_and_no_model_unless_one_is_named() {
        let c = with(&[]).unwrap();
        assert_eq!(c.reports.time_zone, chrono_tz::Asia::Taipei);
        assert!(
            c.reports.llm.is_none(),
            "nothing is sent anywhere by default"
        );
        let c = with(&[
            ("ANDON_TIMEZONE", "Europe/Berlin"),
            ("ANDON_LLM_URL", "http://127.0.0.1:11434/"),
            ("ANDON_LLM_API_KEY", "sk-plant-secret"),
            ("ANDON_LLM_TIMEOUT_SECS", "20"),
        ])
        .unwrap();
        assert_eq!(c.reports.time_zone, chrono_tz::Europe::Berlin);
        let llm = c.reports.llm.as_ref().unwrap();
        assert_eq!(llm.url, "http://127.0.0.1:11434");
        assert_eq!(llm.timeout, Duration::from_secs(20));
        assert!(!format!("{c:?}").contains("sk-plant-secret"));
    }

    #[test]
    fn unknown_andon_variables_are_reported() {
        let c = with(&[("ANDON_LISTN", "x"), ("HOME", "/root")]).unwrap();
        assert_eq!(c.unknown_vars, ["ANDON_LISTN"]);
    }
}
