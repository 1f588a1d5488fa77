import { describe, expect, it } from 'vitest';
import type { Notification } from '../protocol/generated';
import { emptyInbox, KEEP, loaded, markedRead, notificationText, received } from './notifications';

function n(id: string, minute: number, read = false): Notification {
  return {
    id, kind: 'added', room_id: 'r1', room_title: 'Line 3', seq: 2, actor: 'lin@x', actor_name: 'Lin',
    text: 'Lin added you to Line 3', created_at: `2026-11-30T06:${String(minute).padStart(2, '0')}:00Z`,
    read_at: read ? '2026-11-30T07:00:00Z' : null,
  };
}

describe('the notification inbox', () => {
  it('counts a live notification once, newest first', () => {
    let inbox = received(emptyInbox, n('a', 1));
    inbox = received(inbox, n('b', 2));
    inbox = received(inbox, n('b', 2));
    expect(inbox.unread).toBe(2);
    expect(inbox.items.map((x) => x.id)).toEqual(['b', 'a']);
  });

  it('takes the server count from REST and keeps what arrived live meanwhile', () => {
    const live = received(emptyInbox, n('c', 3));
    const inbox = loaded(live, [n('b', 2), n('a', 1, true)], 2);
    expect(inbox.unread).toBe(2);
    expect(inbox.items.map((x) => x.id)).toEqual(['c', 'b', 'a']);
    // A reload that includes the live one does not count it twice.
    expect(received(inbox, n('c', 3)).unread).toBe(2);
  });

  it('keeps at most KEEP entries', () => {
    let inbox = emptyInbox;
    for (let i = 0; i < KEEP + 5; i++) inbox = received(inbox, n(`n${i}`, i % 60));
    expect(inbox.items).toHaveLength(KEEP);
    expect(inbox.unread).toBe(KEEP + 5);
  });

  it('marks some or all read with the count the server answered', () => {
    const inbox = loaded(emptyInbox, [n('b', 2), n('a', 1)], 2);
    const one = markedRead(inbox, ['a'], 1, '2026-11-30T08:00:00Z');
    expect(one.unread).toBe(1);
    expect(one.items.find((x) => x.id === 'a')?.read_at).toBe('2026-11-30T08:00:00Z');
    expect(one.items.find((x) => x.id === 'b')?.read_at).toBeNull();
    const all = markedRead(one, null, 0, '2026-11-30T08:01:00Z');
    expect(all.unread).toBe(0);
    expect(all.items.every((x) => x.read_at)).toBe(true);
    expect(all.items.find((x) => x.id === 'a')?.read_at).toBe('2026-11-30T08:00:00Z');
  });
});

describe('notification text', () => {
  it('is localised by kind from the structured fields', () => {
    expect(notificationText('en', n('a', 1))).toBe('Lin added you to Line 3');
    expect(notificationText('zh-Hant', n('a', 1))).toBe('Lin 將您加入「Line 3」');
    const routed: Notification = { ...n('b', 2), kind: 'routed', actor: null, actor_name: null };
    expect(notificationText('en', routed)).toBe('A routing rule added you to Line 3');
    const mentioned: Notification = { ...n('c', 3), kind: 'mentioned', actor_name: null };
    expect(notificationText('en', mentioned)).toBe('lin@x mentioned you in Line 3');
  });
});
