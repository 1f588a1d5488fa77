//! Security headers on every response (web client, API, errors alike): a Content
//! Security Policy the SPA passes, no framing, no referrer, no type sniffing, and
//! HSTS when Andon itself serves TLS.
//!
//! The policy allows what the built client (web/, Vite) loads and nothing else:
//! its own hashed scripts and stylesheets; images from the API shown through
//! `blob:` object URLs (an `<img>` cannot send the bearer token); fetches and the
//! WebSocket to the same host. The WebSocket host is named explicitly (from the
//! request's `Host`): CSP Level 3 lets `'self'` match `ws:`/`wss:`, but browsers
//! implementing only Level 2 (older Safari) would refuse the socket. With S3
//! storage and a public endpoint, downloads are redirects to presigned URLs on that
//! endpoint, so its origin is allowed for fetches and images; without one Andon
//! relays the objects itself and nothing more is allowed.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::config::{Config, StorageConfig};

/// Built once at start from the configuration.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// Extra origin allowed for `connect-src` and `img-src` (S3 presigned URLs).
    storage_origin: Option<String>,
    hsts: bool,
}

/// One year: the usual HSTS lifetime; sub-domains are left to the operator.
const HSTS: &str = "max-age=31536000";

impl SecurityHeaders {
    pub fn new(config: &Config) -> Self {
        let storage_origin = match &config.storage {
            StorageConfig::S3(s3) => s3
                .public_endpoint
                .as_deref()
                .and_then(|e| reqwest::Url::parse(e).ok())
                .map(|u| u.origin().ascii_serialization())
                .filter(|o| o != "null"),
            StorageConfig::Local(_) => None,
        };
        Self {
            storage_origin,
            hsts: config.tls.is_some(),
        }
    }

    /// The policy for a page served to `host` (the request's `Host`, when it is a
    /// plain host name or address with an optional port).
    pub fn content_security_policy(&self, host: Option<&str>) -> String {
        let mut connect = String::from("'self'");
        let mut img = String::from("'self' blob: data:");
        if let Some(host) = host.filter(|h| is_plain_host(h)) {
            connect.push_str(&format!(" ws://{host} wss://{host}"));
        }
        if let Some(origin) = &self.storage_origin {
            connect.push(' ');
            connect.push_str(origin);
            img.push(' ');
            img.push_str(origin);
        }
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; \
             connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }

    /// Sets each header the handler did not set itself.
    pub fn apply(&self, headers: &mut HeaderMap, host: Option<&str>) {
        let mut set = |name: HeaderName, value: HeaderValue| {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        };
        if let Ok(csp) = HeaderValue::from_str(&self.content_security_policy(host)) {
            set(header::CONTENT_SECURITY_POLICY, csp);
        }
        set(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Room ids and presigned URLs stay out of other sites' logs.
        set(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        // `frame-ancestors` for browsers that predate it.
        set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if self.hsts {
            set(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
    }
}

/// A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing
/// that could end a CSP source list or add a directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(storage_origin: Option<&str>, hsts: bool) -> SecurityHeaders {
        SecurityHeaders {
            storage_origin: storage_origin.map(str::to_string),
            hsts,
        }
    }

    #[test]
    fn the_socket_host_comes_from_a_plain_host_only() {
        let h = headers(None, false);
        let csp = h.content_security_policy(Some("andon.plant.local:8080"));
        assert!(
            csp.contains(
                "connect-src 'self' ws://andon.plant.local:8080 wss://andon.plant.local:8080;"
            ),
            "{csp}"
        );
        for hostile in ["evil; script-src *", "a b", "x'y", ""] {
            let csp = h.content_security_policy(Some(hostile));
            assert!(csp.contains("connect-src 'self';"), "{hostile}: {csp}");
        }
    }

    #[test]
    fn s3_origin_is_allowed_for_fetches_and_images() {
        let csp = headers(Some("https://minio.plant:9000"), false).content_security_policy(None);
        assert!(
            csp.contains("connect-src 'self' https://minio.plant:9000;"),
            "{csp}"
        );
        assert!(
            csp.contains("img-src 'self' blob: data: https://minio.plant:9000;"),
            "{csp}"
        );
    }

    #[test]
    fn a_handlers_own_header_wins_and_hsts_needs_tls() {
        let mut map = HeaderMap::new();
        map.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers(None, false).apply(&mut map, None);
        assert_eq!(map.get(header::REFERRER_POLICY).unwrap(), "same-origin");
        assert!(map.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        headers(None, true).apply(&mut map, None);
        assert_eq!(map.get(header::STRICT_TRANSPORT_SECURITY).unwrap(), HSTS);
    }
}
