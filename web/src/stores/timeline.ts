// Pure reducers for one room's message timeline, kept apart from React so the unit
// tests exercise exactly what the UI renders.

import type { Escalated, Message, Report, RoomEvent } from '../api/types';
import { isLine } from './systemLines';

/**
 * A line in the timeline that is not a message: a completed incident report, from
 * its `report.created` event (with the event's seq) or, for reports older than the
 * page's load, from the room's report list (placed by time); a level of the
 * escalation ladder reached, from its `room.escalated` event; or any other room
 * event that is not a message (a status change, a milestone, a member, a file, a
 * pin…: systemLines.ts), from the socket or from a history page.
 */
export type Notice = {
  id: string;
  seq: number | null;
  at: string;
} & (
  | { kind: 'report'; report: Report }
  | { kind: 'escalated'; escalation: Escalated }
  | { kind: 'event'; event: RoomEvent }
);

export interface Timeline {
  /** Ascending by seq, one entry per message id. */
  messages: Message[];
  /** Older messages exist on the server (scrolling up loads them). */
  hasOlder: boolean;
  /**
   * The messages are a window into history (opened at a search hit), not the latest
   * page: newer messages exist on the server and scrolling down loads them.
   */
  hasNewer: boolean;
  /**
   * Live messages that arrived while `hasNewer`: held apart (they would leave a gap
   * after the window) until the window reaches the live tail.
   */
  tail: Message[];
  /** One per report id. */
  notices: Notice[];
}

export const emptyTimeline: Timeline = { messages: [], hasOlder: false, hasNewer: false, tail: [], notices: [] };

/** `into` with `incoming` merged by id: a deletion is final, otherwise the later edit wins; seq order. */
function mergeById(into: Message[], incoming: Message[]): Message[] {
  const byId = new Map(into.map((m) => [m.id, m]));
  for (const m of incoming) {
    const have = byId.get(m.id);
    if (!have) byId.set(m.id, m);
    else if (have.deleted) continue;
    else if (m.deleted || (m.edited_at ?? '') >= (have.edited_at ?? '')) byId.set(m.id, m);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** Merges a page of messages (from REST or events), keeping seq order and one copy per id. */
export function mergeMessages(tl: Timeline, incoming: Message[], hasOlder?: boolean): Timeline {
  if (!incoming.length) return hasOlder === undefined ? tl : { ...tl, hasOlder };
  // A message seen twice (REST page and replayed event) keeps its latest state.
  return { ...tl, messages: mergeById(tl.messages, incoming), hasOlder: hasOlder ?? tl.hasOlder };
}

/**
 * Replaces the messages with a page of history (around a search hit, or the latest
 * page), keeping the notices. When the page reaches the live tail (`!hasNewer`),
 * live messages newer than it, loaded or held in the tail, stay; otherwise they are
 * dropped from view (scrolling down loads them again) but the held tail is kept.
 */
export function openWindow(tl: Timeline, page: Message[], hasOlder: boolean, hasNewer: boolean): Timeline {
  const top = page.length ? page[page.length - 1].seq : -Infinity;
  const held = tl.hasNewer ? tl.tail : [];
  if (hasNewer) return { ...tl, messages: mergeById([], page), hasOlder, hasNewer, tail: held };
  const live = tl.messages.filter((m) => m.seq > top);
  return { ...tl, messages: mergeById(mergeById(page, live), held), hasOlder, hasNewer: false, tail: [] };
}

/** Appends a page of newer history; once it reaches the live tail the held messages join. */
export function mergeNewer(tl: Timeline, page: Message[], hasNewer: boolean): Timeline {
  const messages = mergeById(tl.messages, page);
  if (hasNewer) return { ...tl, messages, hasNewer };
  return { ...tl, messages: mergeById(messages, tl.tail), hasNewer: false, tail: [] };
}

/** Adds notices, one per report: a known seq wins over a placement by time. */
export function mergeNotices(tl: Timeline, incoming: Notice[]): Timeline {
  if (!incoming.length) return tl;
  const byId = new Map(tl.notices.map((n) => [n.id, n]));
  for (const n of incoming) {
    const have = byId.get(n.id);
    if (!have || (have.seq === null && n.seq !== null)) byId.set(n.id, n);
  }
  return { ...tl, notices: [...byId.values()] };
}

/**
 * The line of an event that shows as one (systemLines.ts), or null: reports and
 * escalations get their own kinds of notice, every other such event a plain line.
 */
export function eventNotice(e: RoomEvent): Notice | null {
  if (!isLine(e.kind)) return null;
  const d = e.data ?? {};
  if (e.kind === 'report.created') {
    return d.report ? { kind: 'report', id: d.report.id, seq: e.seq, at: e.at, report: d.report as Report } : null;
  }
  if (e.kind === 'room.escalated') return { kind: 'escalated', id: `escalated-${e.seq}`, seq: e.seq, at: e.at, escalation: d as Escalated };
  return { kind: 'event', id: `event-${e.seq}`, seq: e.seq, at: e.at, event: e };
}

/** The lines of a history page's events (their messages come with the page as they are now). */
export function eventNotices(events: RoomEvent[]): Notice[] {
  return events.map(eventNotice).filter((n): n is Notice => n !== null);
}

/** The notices of the room's completed reports, as its report list gives them. */
export function reportNotices(reports: Report[]): Notice[] {
  return reports
    .filter((r) => r.status === 'completed')
    .map((r) => ({ kind: 'report' as const, id: r.id, seq: null, at: r.finished_at ?? r.created_at, report: r }));
}

export type TimelineItem = { type: 'message'; message: Message } | { type: 'notice'; notice: Notice };

/**
 * Messages and notices in one list: a notice with a seq goes after the messages with
 * lower seqs, one without after the messages created before it. A notice before the
 * first loaded message is left out while older history is not loaded.
 */
export function timelineItems(tl: Timeline): TimelineItem[] {
  const ms = tl.messages;
  const place = (n: Notice) => {
    const i = ms.findIndex((m) => (n.seq !== null ? m.seq > n.seq : Date.parse(m.created_at) > Date.parse(n.at)));
    return i < 0 ? ms.length : i;
  };
  const slots = new Map<number, Notice[]>();
  for (const n of tl.notices) {
    const i = place(n);
    if (i === 0 && tl.hasOlder) continue;
    if (i === ms.length && tl.hasNewer) continue;
    slots.set(i, [...(slots.get(i) ?? []), n]);
  }
  const out: TimelineItem[] = [];
  const flush = (i: number) => {
    const ns = (slots.get(i) ?? []).sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || a.at.localeCompare(b.at));
    for (const notice of ns) out.push({ type: 'notice', notice });
  };
  ms.forEach((message, i) => {
    flush(i);
    out.push({ type: 'message', message });
  });
  flush(ms.length);
  return out;
}

function update(tl: Timeline, id: string, f: (m: Message) => Message): Timeline {
  const idx = tl.messages.findIndex((m) => m.id === id);
  if (idx >= 0) {
    const messages = tl.messages.slice();
    messages[idx] = f(messages[idx]);
    return { ...tl, messages };
  }
  const t = tl.tail.findIndex((m) => m.id === id);
  if (t < 0) return tl;
  const tail = tl.tail.slice();
  tail[t] = f(tail[t]);
  return { ...tl, tail };
}

function react(m: Message, emoji: string, user: string, add: boolean): Message {
  const reactions = m.reactions.map((r) => ({ ...r, users: [...r.users] }));
  let r = reactions.find((x) => x.emoji === emoji);
  if (add) {
    if (!r) reactions.push((r = { emoji, users: [] }));
    if (!r.users.includes(user)) r.users.push(user);
  } else if (r) {
    r.users = r.users.filter((u) => u !== user);
  }
  return { ...m, reactions: reactions.filter((x) => x.users.length > 0) };
}

/** Applies one durable event: a change of a message, a line of the timeline, or both. */
export function applyEvent(tl: Timeline, e: RoomEvent): Timeline {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'message.created':
      // Viewing a window of older history: held until the window reaches the tail.
      if (tl.hasNewer && !tl.messages.some((m) => m.id === d.id)) return { ...tl, tail: mergeById(tl.tail, [d as Message]) };
      return mergeMessages(tl, [d as Message]);
    case 'message.edited':
      return update(tl, d.message_id, (m) => ({ ...m, content: d.content, edited_at: d.edited_at }));
    case 'message.deleted':
      return update(tl, d.message_id, (m) => ({ ...m, deleted: true, content: '', metadata: {}, file: null }));
    case 'reaction.added':
      return update(tl, d.message_id, (m) => react(m, d.emoji, d.user, true));
    case 'reaction.removed':
      return update(tl, d.message_id, (m) => react(m, d.emoji, d.user, false));
    case 'message.pinned':
    case 'message.unpinned':
      return withLine(update(tl, d.message_id, (m) => ({ ...m, pinned: e.kind === 'message.pinned' })), e);
    default:
      // Every other kind is a line of its own (systemLines.ts says which).
      return withLine(tl, e);
  }
}

function withLine(tl: Timeline, e: RoomEvent): Timeline {
  const n = eventNotice(e);
  return n ? mergeNotices(tl, [n]) : tl;
}

/** Typing users still to show: `until` is when each one's indicator runs out. */
export type Typing = Record<string, { name: string; until: number }>;

export function addTyping(t: Typing, user: string, name: string, expiresInMs: number, now: number): Typing {
  return { ...pruneTyping(t, now), [user]: { name, until: now + expiresInMs } };
}

export function pruneTyping(t: Typing, now: number): Typing {
  const out: Typing = {};
  for (const [u, v] of Object.entries(t)) if (v.until > now) out[u] = v;
  return out;
}

/** Whether `sender` may still edit a message created at `createdAt` (ANDON_EDIT_WINDOW_SECS, 900 by default). */
export function canEdit(m: Message, me: string, now: number, windowMs = 900_000): boolean {
  return !m.deleted && m.sender === me && (m.message_type === 'text' || m.message_type === 'incident_data') &&
    now - Date.parse(m.created_at) < windowMs;
}
