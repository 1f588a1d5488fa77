//! The Andon WebSocket protocol client (docs/PROTOCOL.md, "WebSocket"). Framework-free:
//! the browser pieces (WebSocket, ticket request, storage, randomness) are injected so
//! the unit tests can drive it with a fake socket and fake timers.
//!
//! Guarantees it keeps for the UI:
//! - Per room, events reach `onEvent` in seq order, each once. The last seq seen is
//!   remembered; a reconnect resubscribes with it, and a gap (an event further ahead
//!   than last + 1) triggers a resubscribe from the last seq instead of delivery.
//! - Messages written with `send` go to an outbox persisted in storage first, and
//!   stay there until their ack. Every (re)connect transmits the whole outbox again;
//!   the server answers a repeated `client_id` with the original ack, so each message
//!   is stored exactly once however often the connection drops.
//! - Reconnects use exponential backoff with jitter; close code 4001 stops for good
//!   (the session ended), 1009/4400 are reported, everything else resumes.

import type { Message, RoomEvent } from '../api/types';
import { CloseCode, type ClientFrame, type SendFrame, type ServerFrame, type WithRef } from './generated';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Thrown by `getTicket` when the session itself is gone (HTTP 401). */
export class AuthLostError extends Error {
  constructor(public code: string) {
    super(code);
  }
}

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface OutboxItem {
  client_id: string;
  room_id: string;
  content: string;
  message_type: NonNullable<SendFrame['message_type']>;
  metadata: Record<string, unknown>;
  created_at: string;
}

/** The server frame of type `T` (types generated from the server's, ./generated.ts). */
type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export type Ack = WithRef<Frame<'ack'>>;
export type ErrorFrame = WithRef<Frame<'error'>>;
export type TypingFrame = Frame<'typing'>;
export type PresenceFrame = Frame<'presence'>;
export type ReadFrame = Frame<'read'>;
export type ReportProgressFrame = Frame<'report_progress'>;
export type NotificationFrame = Frame<'notification'>;

export interface ClientListener {
  onState?(state: ConnectionState, info: { attempt: number; retryInMs?: number }): void;
  onEvent?(event: RoomEvent): void;
  onSubscribed?(roomId: string, headSeq: number, online: string[]): void;
  onUnsubscribed?(roomId: string, reason: string): void;
  onTyping?(frame: TypingFrame): void;
  onPresence?(frame: PresenceFrame): void;
  onRead?(frame: ReadFrame): void;
  /** A report this user asked for moved to another stage (sent while subscribed to its room). */
  onReportProgress?(frame: ReportProgressFrame): void;
  /** A notification for this user (sent to every socket of theirs, subscribed or not). */
  onNotification?(frame: NotificationFrame): void;
  onAck?(item: OutboxItem, ack: Ack): void;
  onSendFailed?(item: OutboxItem, code: string, message: string): void;
  onOutbox?(items: OutboxItem[]): void;
  onAuthLost?(reason: string): void;
  onProtocolError?(closeCode: number, reason: string): void;
  onError?(frame: ErrorFrame): void;
}

export interface ClientOptions {
  getTicket: () => Promise<string>;
  url: (ticket: string) => string;
  createSocket: (url: string) => SocketLike;
  storage?: KeyValueStore;
  /** Outbox key in storage; per user so one user's drafts never go out as another's. */
  storageKey?: string;
  random?: () => number;
  newId?: () => string;
  baseDelayMs?: number;
  maxDelayMs?: number;
  pingIntervalMs?: number;
  /** Without any frame for this long the socket is taken for dead. */
  deadAfterMs?: number;
  requestTimeoutMs?: number;
  /** Wait before retransmitting sends the server answered `unavailable`/`rate_limited`. */
  retrySendMs?: number;
}

const OPEN = 1;

/**
 * Delay before reconnect attempt `attempt` (0-based): the exponential cap
 * min(max, base·2^attempt), jittered uniformly into [cap/2, cap] so that many
 * clients dropped together do not come back together.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, maxMs = 30_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Send errors after which retrying the same frame cannot succeed. */
const FINAL_SEND_ERRORS = new Set(['forbidden', 'not_found', 'too_large', 'bad_request']);

interface Pending {
  resolve: (ack: Ack) => void;
  reject: (err: ProtocolRequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class ProtocolRequestError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Sub {
  /** Last seq delivered; null until the server tells the head (subscribe without after_seq). */
  seq: number | null;
  resyncing: boolean;
}

export class ProtocolClient {
  private opts: Required<Omit<ClientOptions, 'storage'>> & { storage?: KeyValueStore };
  private listeners = new Set<ClientListener>();
  private socket: SocketLike | null = null;
  private generation = 0;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private retrySendTimer: ReturnType<typeof setTimeout> | null = null;
  private lastFrameAt = 0;
  private subs = new Map<string, Sub>();
  private outbox: OutboxItem[] = [];
  private pending = new Map<number, Pending>();
  private nextRef = 1;
  private lastTyping = new Map<string, number>();
  state: ConnectionState = 'stopped';

  constructor(options: ClientOptions) {
    this.opts = {
      storageKey: 'andon.outbox',
      random: Math.random,
      newId: () => crypto.randomUUID(),
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      pingIntervalMs: 20_000,
      deadAfterMs: 50_000,
      requestTimeoutMs: 15_000,
      retrySendMs: 2_000,
      ...options,
    };
    this.outbox = this.loadOutbox();
  }

  listen(l: ClientListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit<K extends keyof ClientListener>(key: K, ...args: Parameters<NonNullable<ClientListener[K]>>) {
    for (const l of [...this.listeners]) {
      const f = l[key] as ((...a: unknown[]) => void) | undefined;
      f?.apply(l, args);
    }
  }

  // ---- lifecycle -------------------------------------------------------------

  start() {
    if (this.state !== 'stopped') return;
    this.attempt = 0;
    void this.connect();
  }

  /** Closes for good (logout). The outbox stays in storage unless `clearOutbox`. */
  stop(clearOutbox = false) {
    this.generation++;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s && s.readyState <= OPEN) s.close(1000, 'bye');
    this.failPending('stopped');
    if (clearOutbox) {
      this.outbox = [];
      this.saveOutbox();
    }
    this.setState('stopped');
  }

  /** The browser says the network is back: skip the remaining backoff. */
  reconnectNow() {
    if (this.state !== 'offline') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.connect();
  }

  /** The browser says the network is gone: stop trusting the socket now. */
  networkLost() {
    if (this.state === 'stopped' || this.state === 'offline') return;
    this.dropSocket();
    this.scheduleReconnect();
  }

  private setState(state: ConnectionState, retryInMs?: number) {
    this.state = state;
    this.emit('onState', state, { attempt: this.attempt, retryInMs });
  }

  private clearTimers() {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.retrySendTimer) clearTimeout(this.retrySendTimer);
    this.reconnectTimer = this.pingTimer = this.retrySendTimer = null;
  }

  private async connect() {
    const gen = ++this.generation;
    this.setState('connecting');
    let ticket: string;
    try {
      ticket = await this.opts.getTicket();
    } catch (e) {
      if (gen !== this.generation) return;
      if (e instanceof AuthLostError) {
        this.authLost(e.code);
      } else {
        this.scheduleReconnect();
      }
      return;
    }
    if (gen !== this.generation) return;
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url(ticket));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => gen === this.generation && this.opened();
    socket.onmessage = (ev) => gen === this.generation && this.frame(ev.data);
    socket.onclose = (ev) => gen === this.generation && this.closed(ev.code, ev.reason);
    socket.onerror = () => {};
  }

  private opened() {
    this.attempt = 0;
    this.lastFrameAt = Date.now();
    this.setState('online');
    for (const [room, sub] of this.subs) this.sendSubscribe(room, sub);
    this.flushOutbox();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > this.opts.deadAfterMs) {
        // Silent network loss: the server would have answered our pings by now.
        this.dropSocket();
        this.scheduleReconnect();
        return;
      }
      this.raw({ type: 'ping' });
    }, this.opts.pingIntervalMs);
  }

  private dropSocket() {
    this.generation++;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000, 'reconnect');
      } catch {
        /* already closed */
      }
    }
    this.failPending('disconnected');
  }

  private closed(code: number, reason: string) {
    this.socket = null;
    this.generation++;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.failPending('disconnected');
    if (code === CloseCode.SessionEnded) {
      this.authLost('session_ended');
      return;
    }
    if (code === CloseCode.TooBig || code === CloseCode.ProtocolViolation) {
      // Our bug, not the network's: say so, then come back (slowly) so nothing queued is lost.
      this.emit('onProtocolError', code, reason);
      this.attempt = Math.max(this.attempt, 4);
    }
    // 1000 (idle), 1001 (going away), 4008 (slow consumer), 1006 (network): resume.
    this.scheduleReconnect();
  }

  private authLost(reason: string) {
    this.clearTimers();
    this.generation++;
    this.socket = null;
    this.failPending('unauthorized');
    this.setState('stopped');
    this.emit('onAuthLost', reason);
  }

  private scheduleReconnect() {
    const delay = backoffDelay(this.attempt, this.opts.random, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.attempt++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.setState('offline', delay);
  }

  private failPending(code: string) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ProtocolRequestError(code, code));
    }
    this.pending.clear();
  }

  // ---- frames ----------------------------------------------------------------

  private raw(frame: WithRef<ClientFrame>): boolean {
    const s = this.socket;
    if (!s || s.readyState !== OPEN || this.state !== 'online') return false;
    s.send(JSON.stringify(frame));
    return true;
  }

  private frame(data: unknown) {
    this.lastFrameAt = Date.now();
    let f: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      f = JSON.parse(String(data));
    } catch {
      return;
    }
    switch (f?.type) {
      case 'event':
        return this.event(f as RoomEvent);
      case 'subscribed': {
        const sub = this.subs.get(f.room_id);
        if (!sub) return;
        sub.resyncing = false;
        if (sub.seq === null) sub.seq = f.head_seq;
        this.emit('onSubscribed', f.room_id, f.head_seq, f.online ?? []);
        return;
      }
      case 'unsubscribed':
        if (f.reason) {
          this.subs.delete(f.room_id);
          this.emit('onUnsubscribed', f.room_id, f.reason);
        }
        return;
      case 'ack':
        return this.ack(f as Ack);
      case 'error':
        return this.error(f as ErrorFrame);
      case 'typing':
        return this.emit('onTyping', f as TypingFrame);
      case 'presence':
        return this.emit('onPresence', f as PresenceFrame);
      case 'read':
        return this.emit('onRead', f as ReadFrame);
      case 'report_progress':
        return this.emit('onReportProgress', f as ReportProgressFrame);
      case 'notification':
        return this.emit('onNotification', f as NotificationFrame);
      default:
        return; // pong and anything newer
    }
  }

  private event(e: RoomEvent) {
    const sub = this.subs.get(e.room_id);
    if (!sub) return;
    if (sub.seq !== null) {
      if (e.seq <= sub.seq) return; // replayed twice: already delivered
      if (e.seq > sub.seq + 1) {
        // A gap: never deliver out of order; ask again from what we have.
        if (!sub.resyncing) {
          sub.resyncing = true;
          this.sendSubscribe(e.room_id, sub);
        }
        return;
      }
    }
    sub.seq = e.seq;
    if (e.kind === 'room.deleted') this.subs.delete(e.room_id);
    this.emit('onEvent', e);
  }

  private ack(a: Ack) {
    if (typeof a.ref === 'number' && this.pending.has(a.ref)) {
      const p = this.pending.get(a.ref)!;
      this.pending.delete(a.ref);
      clearTimeout(p.timer);
      p.resolve(a);
    }
    if (a.client_id) {
      const idx = this.outbox.findIndex((i) => i.client_id === a.client_id);
      if (idx >= 0) {
        const [item] = this.outbox.splice(idx, 1);
        this.saveOutbox();
        this.emit('onAck', item, a);
      }
    }
  }

  private error(e: ErrorFrame) {
    if (typeof e.ref === 'number' && this.pending.has(e.ref)) {
      const p = this.pending.get(e.ref)!;
      this.pending.delete(e.ref);
      clearTimeout(p.timer);
      p.reject(new ProtocolRequestError(e.code, e.message));
      return;
    }
    const ref = e.ref as { send?: string } | undefined;
    if (ref && typeof ref === 'object' && typeof ref.send === 'string') {
      const idx = this.outbox.findIndex((i) => i.client_id === ref.send);
      if (idx < 0) return;
      if (FINAL_SEND_ERRORS.has(e.code)) {
        const [item] = this.outbox.splice(idx, 1);
        this.saveOutbox();
        this.emit('onSendFailed', item, e.code, e.message);
      } else if (e.code !== 'unauthorized' && !this.retrySendTimer) {
        // unavailable / rate_limited / internal: keep it and try again shortly.
        this.retrySendTimer = setTimeout(() => {
          this.retrySendTimer = null;
          this.flushOutbox();
        }, this.opts.retrySendMs);
      }
      return;
    }
    this.emit('onError', e);
  }

  private sendSubscribe(room: string, sub: Sub) {
    const frame: ClientFrame = { type: 'subscribe', room_id: room };
    if (sub.seq !== null) frame.after_seq = sub.seq;
    this.raw(frame);
  }

  // ---- rooms -----------------------------------------------------------------

  /** Follows a room from `afterSeq` (events with a higher seq are replayed), or from now. */
  subscribe(roomId: string, afterSeq?: number) {
    const sub: Sub = { seq: afterSeq ?? null, resyncing: false };
    this.subs.set(roomId, sub);
    this.sendSubscribe(roomId, sub);
  }

  unsubscribe(roomId: string) {
    if (!this.subs.delete(roomId)) return;
    this.raw({ type: 'unsubscribe', room_id: roomId });
  }

  lastSeq(roomId: string): number | null {
    return this.subs.get(roomId)?.seq ?? null;
  }

  // ---- outbox ----------------------------------------------------------------

  private loadOutbox(): OutboxItem[] {
    try {
      const raw = this.opts.storage?.getItem(this.opts.storageKey);
      const items = raw ? JSON.parse(raw) : [];
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  private saveOutbox() {
    try {
      if (this.outbox.length) this.opts.storage?.setItem(this.opts.storageKey, JSON.stringify(this.outbox));
      else this.opts.storage?.removeItem(this.opts.storageKey);
    } catch {
      /* storage full or denied: the in-memory outbox still works for this page */
    }
    this.emit('onOutbox', [...this.outbox]);
  }

  pendingMessages(): OutboxItem[] {
    return [...this.outbox];
  }

  private transmit(item: OutboxItem) {
    this.raw({
      type: 'send',
      ref: { send: item.client_id },
      room_id: item.room_id,
      client_id: item.client_id,
      message_type: item.message_type,
      content: item.content,
      metadata: item.metadata,
    });
  }

  private flushOutbox() {
    for (const item of this.outbox) this.transmit(item);
  }

  /** Queues a message; it goes out now if connected, else on the next connect. */
  send(
    roomId: string,
    content: string,
    messageType: OutboxItem['message_type'] = 'text',
    metadata: Record<string, unknown> = {},
  ): OutboxItem {
    const item: OutboxItem = {
      client_id: this.opts.newId(),
      room_id: roomId,
      content,
      message_type: messageType,
      metadata,
      created_at: new Date().toISOString(),
    };
    this.outbox.push(item);
    this.saveOutbox();
    this.transmit(item);
    return item;
  }

  /** Drops a queued message that has not been acknowledged (the user gave up on it). */
  discard(clientId: string) {
    const idx = this.outbox.findIndex((i) => i.client_id === clientId);
    if (idx < 0) return;
    this.outbox.splice(idx, 1);
    this.saveOutbox();
  }

  // ---- requests with acks ----------------------------------------------------

  private request(frame: ClientFrame): Promise<Ack> {
    const ref = this.nextRef++;
    return new Promise<Ack>((resolve, reject) => {
      if (!this.raw({ ...frame, ref })) {
        reject(new ProtocolRequestError('offline', 'offline'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new ProtocolRequestError('timeout', 'timeout'));
      }, this.opts.requestTimeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }

  edit(roomId: string, messageId: string, content: string) {
    return this.request({ type: 'edit', room_id: roomId, message_id: messageId, content });
  }

  remove(roomId: string, messageId: string) {
    return this.request({ type: 'delete', room_id: roomId, message_id: messageId });
  }

  react(roomId: string, messageId: string, emoji: string, add: boolean) {
    return this.request({ type: 'react', room_id: roomId, message_id: messageId, emoji, add });
  }

  /** Pins a message to the room, or takes its pin off; the ack's seq is null when nothing changed. */
  pin(roomId: string, messageId: string, pinned: boolean) {
    return this.request({ type: pinned ? 'pin' : 'unpin', room_id: roomId, message_id: messageId });
  }

  /** At most one typing frame per second and room (the server drops the rest anyway). */
  typing(roomId: string) {
    const now = Date.now();
    if (now - (this.lastTyping.get(roomId) ?? -Infinity) < 1000) return;
    if (!this.subs.has(roomId)) return;
    if (this.raw({ type: 'typing', room_id: roomId })) this.lastTyping.set(roomId, now);
  }

  read(roomId: string, seq: number) {
    this.raw({ type: 'read', room_id: roomId, seq });
  }
}

export type { Message };
