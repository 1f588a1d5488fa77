// Generated from the Rust types of the wire protocol (actors/src/realtime/frames.rs,
// src/realtime/protocol.rs): do not edit. After changing them, run
//   ANDON_UPDATE_TS=1 cargo test --lib typescript
/* eslint-disable */

/**
 * Every server → client frame.
 */
export type ServerFrame = { "type": "subscribed", room_id: string, head_seq: number, online: Array<string>, } | { "type": "unsubscribed", room_id: string, reason?: UnsubscribeReason, } | { "type": "ack", client_id?: string, message_id: string, seq: number | null, } | { "type": "pong" } | { "type": "error", code: WsCode, message: string, room_id?: string, } | { "type": "event", room_id: string, seq: number, kind: string, at: string, actor: string, data: any, } | { "type": "typing", room_id: string, user: string, display_name: string, expires_in_ms: number, } | { "type": "presence", room_id: string, online: Array<string>, offline: Array<string>, } | { "type": "read", room_id: string, user: string, seq: number, } | { "type": "report_progress", room_id: string, report_id: string, status: string, reason?: string, } | { "type": "notification", notification: Notification, ring: boolean, };

/**
 * Why the server ended a subscription.
 */
export type UnsubscribeReason = "removed" | "deleted";

/**
 * One entry of a user's inbox, as sent live and listed by REST.
 */
export type Notification = { id: string, kind: NotificationKind, room_id: string, 
/**
 * The room's title now.
 */
room_title: string, 
/**
 * The room event it is about, if one.
 */
seq: number | null, 
/**
 * Who caused it (`None`: the system, a routing rule or a ladder).
 */
actor: string | null, actor_name: string | null, 
/**
 * Short English text; clients localise by `kind` from the other fields.
 */
text: string, created_at: string, read_at: string | null, };

/**
 * Why someone got a notification.
 */
export type NotificationKind = "routed" | "escalated" | "mentioned" | "added";

/**
 * The stable codes of `error` frames (docs/PROTOCOL.md). REST error codes map to
 * these in `ErrorCode`'s table.
 */
export type WsCode = "bad_request" | "too_many_subscriptions" | "unauthorized" | "forbidden" | "not_found" | "rate_limited" | "too_large" | "edit_window_passed" | "message_deleted" | "pin_limit_reached" | "unavailable" | "internal";

export type ClientFrame = { "type": "subscribe", room_id: string, after_seq?: number, } | { "type": "unsubscribe", room_id: string, } | { "type": "send" } & SendFrame | { "type": "edit", room_id: string, message_id: string, content: string, } | { "type": "delete", room_id: string, message_id: string, } | { "type": "react", room_id: string, message_id: string, emoji: string, add: boolean, } | { "type": "pin", room_id: string, message_id: string, } | { "type": "unpin", room_id: string, message_id: string, } | { "type": "typing", room_id: string, } | { "type": "read", room_id: string, seq: number, } | { "type": "ping" };

export type SendFrame = { room_id: string, client_id: string, message_type?: "text" | "incident_data", content: string, metadata?: Record<string, unknown>, };

/** A frame with the `ref` of the client frame it answers (or that the client sent). */
export type WithRef<F> = F & { ref?: unknown };

/** WebSocket close codes of the server (docs/PROTOCOL.md). */
export const CloseCode = {
  Idle: 1000,
  GoingAway: 1001,
  TooBig: 1009,
  SessionEnded: 4001,
  SlowConsumer: 4008,
  ProtocolViolation: 4400,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Every kind of room event, as in `event` frames (actors/src/realtime/kind.rs). */
export const EVENT_KINDS = [
  "message.created",
  "message.edited",
  "message.deleted",
  "reaction.added",
  "reaction.removed",
  "message.pinned",
  "message.unpinned",
  "file.added",
  "file.deleted",
  "member.added",
  "member.removed",
  "member.role_changed",
  "ownership.transferred",
  "room.updated",
  "room.status_changed",
  "room.acknowledged",
  "room.contained",
  "report.created",
  "room.escalated",
  "room.deleted",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
