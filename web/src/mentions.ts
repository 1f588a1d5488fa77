// Mentions (issue 20) and read markers, as pure functions: what the composer's
// autocomplete offers, what a sent message carries (`metadata.mentions`,
// `metadata.mention_all`, docs/PROTOCOL.md), how a message's text is split into
// highlighted mentions, who has seen a message, and where the unread divider goes.

import type { Member, Message } from './api/types';

/** Most people one message may mention (the server refuses more). */
export const MENTIONS_MAX = 50;
/** Most suggestions the autocomplete lists at once. */
export const SUGGESTIONS_MAX = 8;
/** The labels of "everyone": typed and inserted as `@all` or `@所有人`. */
export const ALL_LABELS = ['all', '所有人'] as const;

export interface Candidate {
  id: string;
  name: string;
}

/** A suggestion: a member, or everyone (`id` `"all"`). */
export interface Suggestion {
  id: string;
  /** What is inserted after the `@`. */
  label: string;
  /** Shown under the label (the e-mail, or nothing for everyone). */
  detail: string;
  all: boolean;
}

export const nameOf = (m: Pick<Member, 'user_id' | 'display_name'>) => m.display_name?.trim() || m.user_id;

/** The `@query` being typed just before `caret`: an `@` at the start or after a
 *  space, then up to 30 characters without spaces. `null` when there is none. */
export function activeMention(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !/\s/.test(before[at - 1]!)) return null;
  const query = before.slice(at + 1);
  if (/\s/.test(query) || [...query].length > 30) return null;
  return { start: at, query };
}

/** How well `query` fits `candidate` (lower is better), or `null` when it does not:
 *  the name's start, then a word of the name, then anywhere in the name, then the e-mail. */
function rank(c: Candidate, q: string): number | null {
  if (!q) return 3;
  const name = c.name.toLowerCase();
  const id = c.id.toLowerCase();
  if (name.startsWith(q)) return 0;
  if (name.split(/[\s._-]+/).some((w) => w.startsWith(q))) return 1;
  if (name.includes(q)) return 2;
  if (id.startsWith(q)) return 3;
  if (id.includes(q)) return 4;
  return null;
}

/** The suggestions for `query`: members other than `me` whose name or e-mail
 *  matches, best first, then everyone when `mayAll` and the query fits it
 *  (labelled `preferAll` until the query picks one of the labels). */
export function suggest(members: Candidate[], query: string, me: string, mayAll: boolean, preferAll: string = ALL_LABELS[0]): Suggestion[] {
  const q = query.trim().toLowerCase();
  const people = members
    .filter((m) => m.id !== me)
    .map((m) => ({ m, r: rank(m, q) }))
    .filter((x): x is { m: Candidate; r: number } => x.r !== null)
    .sort((a, b) => a.r - b.r || a.m.name.localeCompare(b.m.name))
    .slice(0, SUGGESTIONS_MAX)
    .map(({ m }): Suggestion => ({ id: m.id, label: m.name, detail: m.id, all: false }));
  const everyone = mayAll && ALL_LABELS.some((l) => l.startsWith(q));
  if (!everyone) return people;
  const label = ALL_LABELS.find((l) => l.startsWith(q) && q.length > 0) ?? preferAll;
  return [...people, { id: 'all', label, detail: '', all: true }];
}

/** `text` with the `@query` at `start..caret` replaced by `@label ` and where the caret goes. */
export function insertMention(text: string, start: number, caret: number, label: string): { text: string; caret: number } {
  const inserted = `@${label} `;
  const rest = text.slice(caret).replace(/^\s/, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** The metadata of a message with `text` and the suggestions picked while writing
 *  it: only those whose `@label` is still in the text. `{}` when none is. */
export function mentionMetadata(text: string, picked: Suggestion[]): Record<string, unknown> {
  const kept = picked.filter((p) => text.includes(`@${p.label}`));
  const ids = [...new Set(kept.filter((p) => !p.all).map((p) => p.id))].slice(0, MENTIONS_MAX);
  const meta: Record<string, unknown> = {};
  if (ids.length) meta.mentions = ids;
  if (kept.some((p) => p.all)) meta.mention_all = true;
  return meta;
}

/** The mentions a stored message carries. */
export function mentionsOf(m: Pick<Message, 'metadata'>): { ids: string[]; all: boolean } {
  const raw = m.metadata?.mentions;
  const ids = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  return { ids, all: m.metadata?.mention_all === true };
}

/** Whether the message mentions `me` (by id, or everyone when someone else wrote it). */
export function mentionsMe(m: Pick<Message, 'metadata' | 'sender'>, me: string): boolean {
  const { ids, all } = mentionsOf(m);
  return ids.includes(me) || (all && m.sender !== me);
}

export type Segment = { text: string } | { text: string; mention: string; me: boolean };

/** `content` split into text and the mentions the message carries, written `@name`
 *  (the member's name as the composer inserts it, or their e-mail), `@all` or `@所有人`. */
export function segments(content: string, m: Pick<Message, 'metadata' | 'sender'>, me: string, name: (id: string) => string): Segment[] {
  const { ids, all } = mentionsOf(m);
  const labels: { label: string; id: string }[] = [];
  for (const id of ids) {
    labels.push({ label: `@${name(id)}`, id });
    labels.push({ label: `@${id}`, id });
  }
  if (all) for (const l of ALL_LABELS) labels.push({ label: `@${l}`, id: 'all' });
  if (!labels.length) return [{ text: content }];
  labels.sort((a, b) => b.label.length - a.label.length);
  const out: Segment[] = [];
  let plain = '';
  let i = 0;
  while (i < content.length) {
    const hit = content[i] === '@' ? labels.find((l) => content.startsWith(l.label, i)) : undefined;
    if (hit) {
      if (plain) out.push({ text: plain });
      plain = '';
      const isMe = hit.id === me || (hit.id === 'all' && m.sender !== me);
      out.push({ text: hit.label, mention: hit.id, me: isMe });
      i += hit.label.length;
    } else {
      plain += content[i];
      i += 1;
    }
  }
  if (plain) out.push({ text: plain });
  return out;
}

/** Each member's read marker: the larger of the listed one and any `read` frame since. */
export function markers(members: Pick<Member, 'user_id' | 'last_read_seq'>[], live: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of members) out[m.user_id] = Math.max(m.last_read_seq, live?.[m.user_id] ?? 0);
  for (const [user, seq] of Object.entries(live ?? {})) if (!(user in out)) out[user] = seq;
  return out;
}

/** Who other than the message's sender (and `me`) has read up to it, in the members' order. */
export function seenBy(m: Pick<Message, 'seq' | 'sender'>, marks: Record<string, number>, me: string, members: Pick<Member, 'user_id'>[]): string[] {
  return members
    .map((x) => x.user_id)
    .filter((u) => u !== m.sender && u !== me && (marks[u] ?? 0) >= m.seq);
}

/** The message the unread divider goes above: the first after `lastRead` (the
 *  marker when the room was opened) that someone else wrote. `null`: none. */
export function dividerBefore(messages: Pick<Message, 'seq' | 'sender' | 'message_type' | 'id'>[], lastRead: number | null, me: string): string | null {
  if (lastRead === null) return null;
  const first = messages.find((m) => m.seq > lastRead && m.sender !== me && m.message_type !== 'system');
  return first?.id ?? null;
}

/** My latest message (the one "seen by" goes under). */
export function latestOwn<T extends Pick<Message, 'sender' | 'deleted' | 'message_type'>>(messages: T[], me: string): T | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i]!;
    if (m.sender === me && !m.deleted && m.message_type !== 'system') return m;
  }
  return undefined;
}
