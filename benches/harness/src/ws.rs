//! WebSocket client side: connecting from a chosen 127.0.0.x source address, the
//! frames the harness sends, and cheap field extraction from server frames.
//!
//! Receivers see hundreds of thousands of frames per second on two shared cores, so
//! they never parse whole event frames: they find the few fields they need by their
//! JSON prefix (`"seq":`, `"content":"~`) in the text the server wrote.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use uuid::Uuid;

pub type Ws = WebSocketStream<TcpStream>;

/// Where the connection comes from and how much it may buffer.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOpts {
    /// Source address; `None`: the kernel picks (127.0.0.1 for loopback).
    pub source: Option<Ipv4Addr>,
    /// Kernel receive buffer; small values make a stalled reader stall fast.
    pub recv_buffer: Option<u32>,
    /// tungstenite's read buffer (allocated up front: keep it small for idle sockets).
    pub read_buffer: usize,
}

impl Default for ConnectOpts {
    fn default() -> Self {
        Self {
            source: None,
            recv_buffer: None,
            read_buffer: 16 * 1024,
        }
    }
}

/// The source address for connection `i` when each address takes `per_addr`
/// connections (one address has about 28k ephemeral ports toward one server port).
pub fn source_for(i: usize, per_addr: usize, spread: bool) -> Option<Ipv4Addr> {
    spread.then(|| Ipv4Addr::new(127, 0, 0, 1 + (i / per_addr.max(1)).min(253) as u8))
}

pub async fn connect(url: &str, opts: ConnectOpts) -> anyhow::Result<Ws> {
    let rest = url.strip_prefix("ws://").context("ws:// URL expected")?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = hostport
        .parse()
        .with_context(|| format!("loopback address expected: {hostport}"))?;
    let socket = TcpSocket::new_v4()?;
    if let Some(src) = opts.source {
        socket.bind(SocketAddr::new(IpAddr::V4(src), 0))?;
    }
    if let Some(size) = opts.recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let stream = tokio::time::timeout(Duration::from_secs(30), socket.connect(addr))
        .await
        .context("TCP connect timed out")??;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(opts.read_buffer)
        .write_buffer_size(0);
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)),
    )
    .await
    .context("WebSocket handshake timed out")??;
    Ok(ws)
}

pub fn subscribe_frame(room: Uuid, after_seq: Option<i64>) -> Message {
    let text = match after_seq {
        Some(n) => format!(r#"{{"type":"subscribe","room_id":"{room}","after_seq":{n}}}"#),
        None => format!(r#"{{"type":"subscribe","room_id":"{room}"}}"#),
    };
    Message::text(text)
}

/// A text message whose content carries its intended send time (µs since the run's
/// epoch) and whose client id does too, so acks and events need no lookup table.
pub fn send_frame(room: Uuid, sender: usize, n: u64, intended_us: u64) -> Message {
    Message::text(format!(
        r#"{{"type":"send","room_id":"{room}","client_id":"{intended_us}.{sender}.{n}","message_type":"text","content":"~{intended_us}~ bench"}}"#
    ))
}

pub fn typing_frame(room: Uuid) -> Message {
    Message::text(format!(r#"{{"type":"typing","room_id":"{room}"}}"#))
}

/// Sends `subscribe` and reads until `subscribed` arrives; returns its `head_seq`.
pub async fn subscribe(ws: &mut Ws, room: Uuid, after_seq: Option<i64>) -> anyhow::Result<i64> {
    ws.send(subscribe_frame(room, after_seq)).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no `subscribed` within 30 s")?
            .context("socket closed while subscribing")??;
        if let Message::Text(t) = msg {
            match frame_type(t.as_str()) {
                "subscribed" => {
                    return Ok(num_after(t.as_str(), "\"head_seq\":").unwrap_or(0) as i64);
                }
                "error" => bail!("subscribe refused: {}", t.as_str()),
                _ => {}
            }
        }
    }
}

/// The `type` of a server frame.
pub fn frame_type(text: &str) -> &str {
    str_after(text, "\"type\":\"").unwrap_or("")
}

/// The string value that follows `key` (which includes the opening quote).
pub fn str_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let end = text[start..].find('"')?;
    Some(&text[start..start + end])
}

/// The unsigned number that follows the first `key`.
pub fn num_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
    text[start..start + digits].parse().ok()
}

/// The intended send time stored in a `message.created` event's content.
pub fn intended_of_event(text: &str) -> Option<u64> {
    num_after(text, "\"content\":\"~")
}

/// The intended send time at the front of an ack's client id.
pub fn intended_of_ack(text: &str) -> Option<u64> {
    num_after(text, "\"client_id\":\"")
}
