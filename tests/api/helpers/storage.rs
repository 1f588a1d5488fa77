//! Storage for a test app: a temporary local directory (the default), or a bucket
//! of its own on the test S3 server (Garage, started by `scripts/test`), optionally
//! reached through a proxy the test can cut.

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

use super::TcpProxy;

/// Which driver a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Local,
    S3,
}

/// The test S3 server, from the variables `scripts/test` exports.
pub struct S3Server {
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Server {
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: S3 tests need the Garage server that scripts/test starts"
                )
            })
        };
        Self {
            endpoint: var("ANDON_TEST_S3_ENDPOINT"),
            region: var("ANDON_TEST_S3_REGION"),
            access_key: var("ANDON_TEST_S3_ACCESS_KEY"),
            secret_key: var("ANDON_TEST_S3_SECRET_KEY"),
        }
    }

    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(self.region.clone()))
            .credentials_provider(Credentials::new(
                &self.access_key,
                &self.secret_key,
                None,
                None,
                "test",
            ))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

/// What a test app stores files in.
pub enum TestStorage {
    Local(PathBuf),
    S3 {
        bucket: String,
        client: aws_sdk_s3::Client,
        /// Between the app and the S3 server, when asked for.
        proxy: Option<Arc<TcpProxy>>,
    },
}

impl TestStorage {
    /// Creates the storage and returns the app's `ANDON_*` variables for it.
    pub async fn create(driver: Driver, proxied: bool) -> (Self, Vec<(String, String)>) {
        match driver {
            Driver::Local => {
                let dir = std::env::temp_dir().join(format!(
                    "andon-test-files-{}",
                    uuid::Uuid::new_v4().simple()
                ));
                let vars = vec![("ANDON_STORAGE".into(), format!("local:{}", dir.display()))];
                (Self::Local(dir), vars)
            }
            Driver::S3 => {
                let server = S3Server::from_env();
                let bucket = format!("andon-test-{}", uuid::Uuid::new_v4().simple());
                let url =
                    reqwest::Url::parse(&server.endpoint).expect("ANDON_TEST_S3_ENDPOINT is a URL");
                let (endpoint, proxy) = if proxied {
                    let target = format!(
                        "{}:{}",
                        url.host_str().unwrap_or("127.0.0.1"),
                        url.port().unwrap_or(80)
                    );
                    let proxy = Arc::new(TcpProxy::start(target).await);
                    (format!("http://127.0.0.1:{}", proxy.port), Some(proxy))
                } else {
                    (server.endpoint.clone(), None)
                };
                let vars = vec![
                    ("ANDON_STORAGE".into(), "s3".into()),
                    ("ANDON_S3_ENDPOINT".into(), endpoint),
                    ("ANDON_S3_BUCKET".into(), bucket.clone()),
                    ("ANDON_S3_REGION".into(), server.region.clone()),
                    ("ANDON_S3_ACCESS_KEY".into(), server.access_key.clone()),
                    ("ANDON_S3_SECRET_KEY".into(), server.secret_key.clone()),
                ];
                let client = server.client();
                (
                    Self::S3 {
                        bucket,
                        client,
                        proxy,
                    },
                    vars,
                )
            }
        }
    }

    /// The S3 bucket of this app (panics for local storage).
    pub fn bucket(&self) -> &str {
        match self {
            Self::S3 { bucket, .. } => bucket,
            Self::Local(_) => panic!("local storage has no bucket"),
        }
    }

    /// Every stored object's key (local: every file below the root, spool included).
    pub async fn objects(&self) -> Vec<String> {
        match self {
            Self::Local(root) => {
                let mut out = Vec::new();
                let mut stack = vec![root.clone()];
                while let Some(dir) = stack.pop() {
                    let Ok(entries) = std::fs::read_dir(&dir) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        let path = entry.path();
                        if path.is_dir() {
                            stack.push(path);
                        } else {
                            out.push(
                                path.strip_prefix(root)
                                    .unwrap_or(&path)
                                    .display()
                                    .to_string(),
                            );
                        }
                    }
                }
                out.sort();
                out
            }
            Self::S3 { bucket, client, .. } => {
                let page = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .send()
                    .await
                    .expect("listing the test bucket");
                let mut keys: Vec<String> = page
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string))
                    .collect();
                keys.sort();
                keys
            }
        }
    }

    /// Makes the storage unreachable for the app (`false` restores it).
    pub fn set_down(&self, down: bool) {
        match self {
            Self::Local(root) => {
                // A plain file where the directory was: every write fails.
                let aside = root.with_extension("aside");
                if down {
                    std::fs::rename(root, &aside).expect("moving the storage aside");
                    std::fs::write(root, b"not a directory").expect("blocking the storage path");
                } else {
                    std::fs::remove_file(root).expect("unblocking the storage path");
                    std::fs::rename(&aside, root).expect("moving the storage back");
                }
            }
            Self::S3 { proxy, .. } => {
                let proxy = proxy
                    .as_ref()
                    .expect("create the app with a storage proxy to cut S3");
                if down { proxy.cut() } else { proxy.restore() }
            }
        }
    }
}

impl Drop for TestStorage {
    fn drop(&mut self) {
        if let Self::Local(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
