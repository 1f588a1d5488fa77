//! A fresh database per test, dropped when the test ends.

use reqwest::Url;
use tokio_postgres::NoTls;

/// Where tests may create databases. `scripts/test` sets it on machines whose
/// PostgreSQL does not trust local connections.
pub fn admin_url() -> String {
    std::env::var("ANDON_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("andon_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("creating the test database");
        let mut url = Url::parse(&admin_url()).expect("ANDON_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Self {
            name,
            url: url.to_string(),
        }
    }

    /// A URL for the same database through another host and port (a proxy).
    pub fn url_via(&self, host: &str, port: u16) -> String {
        let mut url = Url::parse(&self.url).expect("valid URL");
        url.set_host(Some(host)).expect("valid host");
        url.set_port(Some(port)).expect("valid port");
        url.to_string()
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"));
    tokio::spawn(conn);
    client
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread
        // with a runtime of its own can.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for dropping the test database");
            rt.block_on(async move {
                let admin = connect(&admin_url()).await;
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}
