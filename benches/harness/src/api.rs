//! The REST calls the harness makes: fake AD users, login, rooms, members, tickets
//! and REST sends. Bench users are `b{n}@bench.example` with one shared password.

use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "bench-password-1";

/// The user id (AD e-mail) of bench user `n`.
pub fn user_id(n: usize) -> String {
    format!("b{n}@bench.example")
}

/// The number in a bench user id (`b17@bench.example` → 17).
pub fn user_index(id: &str) -> Option<usize> {
    id.strip_prefix('b')?.split('@').next()?.parse().ok()
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// Node 0: every REST call of the setup goes here.
    pub base: String,
    /// Every node's base URL (node 0 first); sockets choose theirs with
    /// [`Api::ws_url_on`]. Sessions and tickets live in the shared database, so a
    /// ticket minted on node 0 opens a socket on any node.
    pub nodes: Vec<String>,
    pub ad: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

#[derive(Deserialize)]
struct TicketBody {
    ticket: String,
}

/// A body with an `id` (a room, a report).
#[derive(Deserialize)]
struct RoomBody {
    id: Uuid,
}

impl Api {
    /// `nodes`: each server node's base URL; the first one takes the REST calls.
    pub fn new(nodes: &[String], ad: &str) -> anyhow::Result<Self> {
        let nodes: Vec<String> = nodes
            .iter()
            .map(|b| b.trim_end_matches('/').to_string())
            .collect();
        let base = nodes.first().context("no server URL")?.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            base,
            nodes,
            ad: ad.trim_end_matches('/').to_string(),
        })
    }

    /// How many server nodes there are.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// `ws://host:port/api/ws?ticket=` on node `node` (modulo the node count).
    pub fn ws_url_on(&self, node: usize, ticket: &str) -> String {
        let base = &self.nodes[node % self.nodes.len()];
        let host = base.trim_start_matches("http://");
        format!("ws://{host}/api/ws?ticket={ticket}")
    }

    async fn post(
        &self,
        url: String,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<reqwest::Response> {
        let mut req = self.http.post(&url).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.with_context(|| format!("POST {url}"))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            bail!("POST {url}: {status} {text}");
        }
        Ok(resp)
    }

    pub async fn create_user(&self, n: usize) -> anyhow::Result<()> {
        let body = json!({
            "username": user_id(n), "password": PASSWORD, "name": format!("Bench User {n}"),
            "office_location": "Bench", "job_title": "Load generator",
        });
        self.post(format!("{}/admin/users", self.ad), None, body)
            .await?;
        Ok(())
    }

    pub async fn login(&self, n: usize) -> anyhow::Result<Session> {
        let body = json!({"username": user_id(n), "password": PASSWORD});
        let resp = self
            .post(format!("{}/api/auth/login", self.base), None, body)
            .await?;
        let token = resp.json::<TokenBody>().await?.token;
        Ok(Session { token })
    }

    pub async fn create_room(&self, owner: &Session, title: &str) -> anyhow::Result<Uuid> {
        let body =
            json!({"title": title, "incident_type": "equipment_failure", "severity": "high"});
        let resp = self
            .post(format!("{}/api/rooms", self.base), Some(&owner.token), body)
            .await?;
        Ok(resp.json::<RoomBody>().await?.id)
    }

    pub async fn add_member(&self, owner: &Session, room: Uuid, user: usize) -> anyhow::Result<()> {
        let body = json!({"user_id": user_id(user), "role": "editor"});
        let url = format!("{}/api/rooms/{room}/members", self.base);
        self.post(url, Some(&owner.token), body).await?;
        Ok(())
    }

    pub async fn ticket(&self, session: &Session) -> anyhow::Result<String> {
        let url = format!("{}/api/ws-ticket", self.base);
        let resp = self.post(url, Some(&session.token), json!({})).await?;
        Ok(resp.json::<TicketBody>().await?.ticket)
    }

    /// `POST /api/rooms/{id}/messages` (the integration path; no socket rate limit).
    pub async fn send_rest(
        &self,
        session: &Session,
        room: Uuid,
        client_id: &str,
        content: &str,
    ) -> anyhow::Result<()> {
        let url = format!("{}/api/rooms/{room}/messages", self.base);
        let body = json!({"client_id": client_id, "content": content});
        self.post(url, Some(&session.token), body).await?;
        Ok(())
    }

    /// `POST /api/rooms/{id}/files` (multipart): uploads `bytes` as `name`.
    pub async fn upload_file(
        &self,
        session: &Session,
        room: Uuid,
        name: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<()> {
        let url = format!("{}/api/rooms/{room}/files", self.base);
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let resp = self
            .http
            .post(&url)
            .bearer_auth(&session.token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        if resp.status() != reqwest::StatusCode::CREATED {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            bail!("POST {url}: {status} {text}");
        }
        Ok(())
    }

    /// `POST /api/rooms/{id}/reports`: starts a report (no model); its id. A
    /// report of the same kind still running is an error here (200, not 202):
    /// the harness times only reports it started.
    pub async fn start_report(
        &self,
        session: &Session,
        room: Uuid,
        language: &str,
    ) -> anyhow::Result<Uuid> {
        let url = format!("{}/api/rooms/{room}/reports", self.base);
        let body = json!({"language": language, "ai": false});
        let resp = self.post(url.clone(), Some(&session.token), body).await?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            bail!(
                "POST {url}: {} (a report of this room was already running)",
                resp.status()
            );
        }
        Ok(resp.json::<RoomBody>().await?.id)
    }

    /// `GET {path}` on node 0 with the session's token; the body's bytes.
    pub async fn get_bytes(&self, session: &Session, path: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&session.token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            bail!("GET {url}: {status} {text}");
        }
        Ok(resp.bytes().await?.to_vec())
    }

    /// `GET /api/rooms/{id}/reports/{rid}`: the report's status and details.
    pub async fn report_detail(
        &self,
        session: &Session,
        room: Uuid,
        report: Uuid,
    ) -> anyhow::Result<Value> {
        let bytes = self
            .get_bytes(session, &format!("/api/rooms/{room}/reports/{report}"))
            .await?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}
