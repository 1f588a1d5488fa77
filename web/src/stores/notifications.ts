// The user's notification inbox as the top bar shows it: the newest entries and
// the unread count, loaded by REST and kept current by `notification` frames.
// Reducers are pure (and tested); the store is only the glue.

import { create } from 'zustand';
import { translate, type Lang } from '../i18n';
import type { Notification } from '../protocol/generated';

export interface Inbox {
  /** Newest first, at most `KEEP`. */
  items: Notification[];
  unread: number;
}

/** Entries kept for the dropdown; older ones stay on the server. */
export const KEEP = 50;

export const emptyInbox: Inbox = { items: [], unread: 0 };

function byNewest(a: Notification, b: Notification): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0;
}

/**
 * A REST answer (`GET /api/notifications`): its count is the server's, its
 * entries merged with any that arrived live meanwhile.
 */
export function loaded(inbox: Inbox, items: Notification[], unread: number): Inbox {
  const fresh = new Map(items.map((n) => [n.id, n]));
  const live = inbox.items.filter((n) => !fresh.has(n.id));
  return { items: [...items, ...live].sort(byNewest).slice(0, KEEP), unread };
}

/** A live notification; one already there (a reconnect's reload) counts once. */
export function received(inbox: Inbox, n: Notification): Inbox {
  if (inbox.items.some((x) => x.id === n.id)) return inbox;
  const items = [n, ...inbox.items].sort(byNewest).slice(0, KEEP);
  return { items, unread: inbox.unread + (n.read_at ? 0 : 1) };
}

/** `ids` (all, if `null`) marked read at `at`, with the server's new count. */
export function markedRead(inbox: Inbox, ids: string[] | null, unread: number, at: string): Inbox {
  const marked = ids && new Set(ids);
  const items = inbox.items.map((n) => (!n.read_at && (!marked || marked.has(n.id)) ? { ...n, read_at: at } : n));
  return { items, unread };
}

/** The notification in the UI's language, from its kind and fields (the server's `text` is English). */
export function notificationText(lang: Lang, n: Notification): string {
  const vars = { actor: n.actor_name ?? n.actor ?? translate(lang, 'notif.someone'), room: n.room_title };
  return translate(lang, `notif.${n.kind}`, vars);
}

interface NotificationState extends Inbox {
  load(items: Notification[], unread: number): void;
  receive(n: Notification): void;
  read(ids: string[] | null, unread: number): void;
  clear(): void;
}

export const useNotifications = create<NotificationState>((set) => ({
  ...emptyInbox,
  load: (items, unread) => set((s) => loaded(s, items, unread)),
  receive: (n) => set((s) => received(s, n)),
  read: (ids, unread) => set((s) => markedRead(s, ids, unread, new Date().toISOString())),
  clear: () => set(emptyInbox),
}));
