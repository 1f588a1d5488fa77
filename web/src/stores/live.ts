// Live state fed by the protocol client: connection, per-room timelines, typing,
// presence and the outbox. Reducers live in timeline.ts; this is only the glue.

import { create } from 'zustand';
import type { Message, RoomEvent } from '../api/types';
import type { ConnectionState, OutboxItem } from '../protocol/client';
import { addTyping, applyEvent, emptyTimeline, eventNotices, mergeMessages, mergeNewer, mergeNotices, openWindow, pruneTyping, type Notice, type Timeline, type Typing } from './timeline';

export interface SendFailure {
  item: OutboxItem;
  code: string;
  message: string;
}

export interface LiveState {
  connection: ConnectionState;
  retryInMs: number | null;
  protocolError: string | null;
  timelines: Record<string, Timeline>;
  typing: Record<string, Typing>;
  online: Record<string, string[]>;
  /** Rooms whose subscription the server confirmed on the current socket. */
  subscribed: Record<string, boolean>;
  setSubscribed(roomId: string, on: boolean): void;
  outbox: OutboxItem[];
  failures: SendFailure[];
  setConnection(state: ConnectionState, retryInMs?: number): void;
  setProtocolError(msg: string | null): void;
  /** A page of history: its messages as they are now, and its other events as lines. */
  loadPage(roomId: string, messages: Message[], hasOlder: boolean, events?: RoomEvent[]): void;
  /** Replaces the loaded messages with a page around a seq (or the latest page: `hasNewer` false). */
  loadWindow(roomId: string, messages: Message[], hasOlder: boolean, hasNewer: boolean, events?: RoomEvent[]): void;
  /** A page of newer history below a window. */
  loadNewer(roomId: string, messages: Message[], hasNewer: boolean, events?: RoomEvent[]): void;
  /** Non-message lines (completed reports) for a room whose timeline is loaded. */
  loadNotices(roomId: string, notices: Notice[]): void;
  resetRoom(roomId: string): void;
  event(e: RoomEvent): void;
  typingFrom(roomId: string, user: string, name: string, expiresInMs: number, now?: number): void;
  prune(now?: number): void;
  setOnline(roomId: string, users: string[]): void;
  /** Who came online and who went offline in a room (one presence frame). */
  presence(roomId: string, online: string[], offline: string[]): void;
  setOutbox(items: OutboxItem[]): void;
  fail(f: SendFailure): void;
  dismissFailure(clientId: string): void;
  clear(): void;
}

const initial = {
  connection: 'stopped' as ConnectionState,
  retryInMs: null,
  protocolError: null,
  timelines: {},
  typing: {},
  online: {},
  subscribed: {},
  outbox: [],
  failures: [],
};

export const useLive = create<LiveState>((set) => ({
  ...initial,
  setConnection: (connection, retryInMs) =>
    set((s) => ({ connection, retryInMs: retryInMs ?? null, subscribed: connection === 'online' ? s.subscribed : {} })),
  setSubscribed: (roomId, on) => set((s) => ({ subscribed: { ...s.subscribed, [roomId]: on } })),
  setProtocolError: (protocolError) => set({ protocolError }),
  loadPage: (roomId, messages, hasOlder, events = []) =>
    set((s) => {
      const tl = mergeMessages(s.timelines[roomId] ?? emptyTimeline, messages, hasOlder);
      return { timelines: { ...s.timelines, [roomId]: mergeNotices(tl, eventNotices(events)) } };
    }),
  loadWindow: (roomId, messages, hasOlder, hasNewer, events = []) =>
    set((s) => {
      const tl = openWindow(s.timelines[roomId] ?? emptyTimeline, messages, hasOlder, hasNewer);
      return { timelines: { ...s.timelines, [roomId]: mergeNotices(tl, eventNotices(events)) } };
    }),
  loadNewer: (roomId, messages, hasNewer, events = []) =>
    set((s) => {
      const tl = s.timelines[roomId];
      return tl ? { timelines: { ...s.timelines, [roomId]: mergeNotices(mergeNewer(tl, messages, hasNewer), eventNotices(events)) } } : {};
    }),
  loadNotices: (roomId, notices) =>
    set((s) => {
      const tl = s.timelines[roomId];
      return tl ? { timelines: { ...s.timelines, [roomId]: mergeNotices(tl, notices) } } : {};
    }),
  resetRoom: (roomId) =>
    set((s) => {
      const timelines = { ...s.timelines };
      delete timelines[roomId];
      return { timelines };
    }),
  event: (e) =>
    set((s) => {
      const tl = s.timelines[e.room_id];
      const out: Partial<LiveState> = {};
      if (tl) out.timelines = { ...s.timelines, [e.room_id]: applyEvent(tl, e) };
      // A message from someone ends their typing indicator.
      if (e.kind === 'message.created' && s.typing[e.room_id]?.[e.actor]) {
        const t = { ...s.typing[e.room_id] };
        delete t[e.actor];
        out.typing = { ...s.typing, [e.room_id]: t };
      }
      return out;
    }),
  typingFrom: (roomId, user, name, expiresInMs, now = Date.now()) =>
    set((s) => ({ typing: { ...s.typing, [roomId]: addTyping(s.typing[roomId] ?? {}, user, name, expiresInMs, now) } })),
  prune: (now = Date.now()) =>
    set((s) => {
      let changed = false;
      const typing: Record<string, Typing> = {};
      for (const [room, t] of Object.entries(s.typing)) {
        typing[room] = pruneTyping(t, now);
        if (Object.keys(typing[room]).length !== Object.keys(t).length) changed = true;
      }
      return changed ? { typing } : {};
    }),
  setOnline: (roomId, users) => set((s) => ({ online: { ...s.online, [roomId]: users } })),
  presence: (roomId, online, offline) =>
    set((s) => {
      const cur = new Set(s.online[roomId] ?? []);
      for (const user of online) cur.add(user);
      for (const user of offline) cur.delete(user);
      return { online: { ...s.online, [roomId]: [...cur] } };
    }),
  setOutbox: (outbox) => set({ outbox }),
  fail: (f) => set((s) => ({ failures: [...s.failures, f] })),
  dismissFailure: (clientId) => set((s) => ({ failures: s.failures.filter((f) => f.item.client_id !== clientId) })),
  clear: () => set(initial),
}));
