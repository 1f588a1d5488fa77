//! The `andon` binary as a child process, for what only a real process shows:
//! signals, exit codes and the log it writes.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};

pub struct Server {
    pub child: tokio::process::Child,
    pub port: u16,
    /// Every stderr line so far (JSON log lines).
    pub log: Arc<Mutex<Vec<String>>>,
    reader: tokio::task::JoinHandle<()>,
}

/// Starts `andon serve` with `env` (plus JSON logs, and port 0 unless `env` sets
/// `ANDON_LISTEN`) and waits until it listens.
pub async fn serve(env: &[(&str, &str)]) -> Server {
    let files = std::env::temp_dir().join(format!("andon-bin-{}", uuid::Uuid::new_v4().simple()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_andon"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ANDON_STORAGE", format!("local:{}", files.display()))
        .env("ANDON_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .env("ANDON_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting andon serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let port = loop {
        let line = lines
            .next_line()
            .await
            .expect("reading the log")
            .unwrap_or_else(|| panic!("andon exited early; log: {:?}", log.lock().unwrap()));
        log.lock().unwrap().push(line.clone());
        let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
        if json["message"] == "listening" {
            break json["port"].as_u64().expect("port") as u16;
        }
    };
    let sink = log.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    Server {
        child,
        port,
        log,
        reader,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// POSTs `body` (as the token's user, if any) and returns the JSON answer.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let mut req = reqwest::Client::new().post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request to andon");
        resp.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// Logs in and returns the session token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = self
            .post(
                "/api/auth/login",
                None,
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_string()
    }

    /// A WebSocket ticket for the token's session.
    pub async fn ticket(&self, token: &str) -> String {
        let body = self
            .post("/api/ws-ticket", Some(token), serde_json::Value::Null)
            .await;
        body["ticket"].as_str().expect("ticket").to_string()
    }

    pub fn sigterm(&self) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "sending SIGTERM");
    }

    /// SIGKILL: no shutdown steps at all, like a power cut; returns once it is gone.
    pub async fn sigkill(mut self) {
        self.child.kill().await.expect("killing andon");
        let _ = self.reader.await;
    }

    /// Waits for the exit (at most `secs`) and for the rest of the log.
    pub async fn exit_code(mut self, secs: u64) -> (Option<i32>, Vec<String>) {
        let status = tokio::time::timeout(std::time::Duration::from_secs(secs), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("andon did not exit within {secs}s"))
            .expect("waiting for andon");
        let _ = self.reader.await;
        let log = self.log.lock().unwrap().clone();
        (status.code(), log)
    }

    /// The `message` of every JSON log line so far.
    pub fn messages(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["message"].as_str().map(str::to_string))
            .collect()
    }
}
