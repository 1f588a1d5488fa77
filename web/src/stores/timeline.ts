// Pure reducers for one room's message timeline, kept apart from React so the unit
// tests exercise exactly what the UI renders.

import type { Message, RoomEvent } from '../api/types';

export interface Timeline {
  /** Ascending by seq, one entry per message id. */
  messages: Message[];
  /** Older messages exist on the server (scrolling up loads them). */
  hasOlder: boolean;
}

export const emptyTimeline: Timeline = { messages: [], hasOlder: false };

/** Merges a page of messages (from REST or events), keeping seq order and one copy per id. */
export function mergeMessages(tl: Timeline, incoming: Message[], hasOlder?: boolean): Timeline {
  if (!incoming.length) return hasOlder === undefined ? tl : { ...tl, hasOlder };
  const byId = new Map(tl.messages.map((m) => [m.id, m]));
  for (const m of incoming) {
    const have = byId.get(m.id);
    // A message seen twice (REST page and replayed event) keeps its latest state:
    // a deletion is final, otherwise the later edit wins.
    if (!have) byId.set(m.id, m);
    else if (have.deleted) continue;
    else if (m.deleted || (m.edited_at ?? '') >= (have.edited_at ?? '')) byId.set(m.id, m);
  }
  const messages = [...byId.values()].sort((a, b) => a.seq - b.seq);
  return { messages, hasOlder: hasOlder ?? tl.hasOlder };
}

function update(tl: Timeline, id: string, f: (m: Message) => Message): Timeline {
  const idx = tl.messages.findIndex((m) => m.id === id);
  if (idx < 0) return tl;
  const messages = tl.messages.slice();
  messages[idx] = f(messages[idx]);
  return { ...tl, messages };
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

/** Applies one durable event; events that do not touch messages leave it unchanged. */
export function applyEvent(tl: Timeline, e: RoomEvent): Timeline {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'message.created':
      return mergeMessages(tl, [d as Message]);
    case 'message.edited':
      return update(tl, d.message_id, (m) => ({ ...m, content: d.content, edited_at: d.edited_at }));
    case 'message.deleted':
      return update(tl, d.message_id, (m) => ({ ...m, deleted: true, content: '', metadata: {}, file: null }));
    case 'reaction.added':
      return update(tl, d.message_id, (m) => react(m, d.emoji, d.user, true));
    case 'reaction.removed':
      return update(tl, d.message_id, (m) => react(m, d.emoji, d.user, false));
    default:
      return tl;
  }
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
