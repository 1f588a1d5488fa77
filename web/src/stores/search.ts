// Pure helpers of message search: the query as the server takes it, the matched
// parts of a hit's text, and a snippet around the first match.

/** The longest query the server accepts, in characters (after trimming). */
export const QUERY_MAX = 200;

/** The query to send, or why not: 'empty' or 'long' (the server says 400 too). */
export function checkQuery(q: string): { ok: true; q: string } | { ok: false; reason: 'empty' | 'long' } {
  const t = q.trim();
  const n = [...t].length;
  if (n === 0) return { ok: false, reason: 'empty' };
  if (n > QUERY_MAX) return { ok: false, reason: 'long' };
  return { ok: true, q: t };
}

export type Part = { text: string; hit: boolean };

/**
 * `text` cut into matched and unmatched parts, case-insensitively, as the server
 * matches (a substring of the lower-cased text). Compared position by position so
 * that lower-casing that changes a string's length cannot shift the offsets.
 */
export function highlight(text: string, q: string): Part[] {
  const needle = [...q.trim().toLowerCase()];
  const chars = [...text];
  if (!needle.length) return text ? [{ text, hit: false }] : [];
  const lower = chars.map((c) => c.toLowerCase());
  const parts: Part[] = [];
  let plain = '';
  let i = 0;
  while (i < chars.length) {
    let match = i + needle.length <= chars.length;
    for (let k = 0; match && k < needle.length; k++) if (lower[i + k] !== needle[k]) match = false;
    if (match) {
      if (plain) parts.push({ text: plain, hit: false });
      plain = '';
      parts.push({ text: chars.slice(i, i + needle.length).join(''), hit: true });
      i += needle.length;
    } else {
      plain += chars[i];
      i += 1;
    }
  }
  if (plain) parts.push({ text: plain, hit: false });
  return parts;
}

/**
 * At most about `max` characters of `text` around the first match of `q`, with an
 * ellipsis where it was cut, so that a hit deep in a long message shows its match.
 */
export function snippet(text: string, q: string, max = 160): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const first = highlight(text, q).findIndex((p) => p.hit);
  const before = first < 0 ? 0 : highlight(text, q).slice(0, first).reduce((n, p) => n + [...p.text].length, 0);
  const start = Math.max(0, Math.min(before - Math.floor(max / 4), chars.length - max));
  const end = Math.min(chars.length, start + max);
  return (start > 0 ? '…' : '') + chars.slice(start, end).join('') + (end < chars.length ? '…' : '');
}
