import { beforeEach, describe, expect, it } from 'vitest';
import type { Message, Report, RoomEvent } from '../api/types';
import { useLive } from './live';
import { useSession } from './session';
import { addTyping, applyEvent, canEdit, emptyTimeline, mergeMessages, mergeNewer, mergeNotices, openWindow, pruneTyping, reportNotices, timelineItems, type Timeline } from './timeline';

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`, room_id: 'r', seq, sender: 'a@x', sender_name: 'A', message_type: 'text', content: `c${seq}`,
  metadata: {}, client_id: `c${seq}`, created_at: '2026-01-01T00:00:00Z', edited_at: null, deleted: false,
  reactions: [], file: null, ...extra,
});
const ev = (seq: number, kind: string, data: unknown): RoomEvent => ({ type: 'event', room_id: 'r', seq, kind, at: '', actor: 'b@x', data });

describe('timeline reducers', () => {
  it('merges pages in seq order, once per id', () => {
    let tl = mergeMessages(emptyTimeline, [msg(5), msg(6)], true);
    tl = mergeMessages(tl, [msg(2), msg(3)], false);
    tl = mergeMessages(tl, [msg(6), msg(7)]);
    expect(tl.messages.map((m) => m.seq)).toEqual([2, 3, 5, 6, 7]);
    expect(tl.hasOlder).toBe(false);
  });

  it('keeps the latest state when a message is seen twice', () => {
    let tl = mergeMessages(emptyTimeline, [msg(1, { content: 'new', edited_at: '2026-01-02T00:00:00Z' })]);
    tl = mergeMessages(tl, [msg(1)]);
    expect(tl.messages[0].content).toBe('new');
    tl = mergeMessages(tl, [msg(1, { deleted: true, content: '' })]);
    tl = mergeMessages(tl, [msg(1)]);
    expect(tl.messages[0].deleted).toBe(true);
  });

  it('applies created, edited, deleted and reactions', () => {
    let tl = applyEvent(emptyTimeline, ev(1, 'message.created', msg(1)));
    tl = applyEvent(tl, ev(2, 'message.edited', { message_id: 'm1', content: 'fixed', edited_at: '2026-01-01T00:01:00Z' }));
    expect(tl.messages[0]).toMatchObject({ content: 'fixed', edited_at: '2026-01-01T00:01:00Z' });
    tl = applyEvent(tl, ev(3, 'reaction.added', { message_id: 'm1', emoji: '👍', user: 'b@x' }));
    tl = applyEvent(tl, ev(4, 'reaction.added', { message_id: 'm1', emoji: '👍', user: 'b@x' }));
    tl = applyEvent(tl, ev(5, 'reaction.added', { message_id: 'm1', emoji: '👍', user: 'c@x' }));
    expect(tl.messages[0].reactions).toEqual([{ emoji: '👍', users: ['b@x', 'c@x'] }]);
    tl = applyEvent(tl, ev(6, 'reaction.removed', { message_id: 'm1', emoji: '👍', user: 'b@x' }));
    tl = applyEvent(tl, ev(7, 'reaction.removed', { message_id: 'm1', emoji: '👍', user: 'c@x' }));
    expect(tl.messages[0].reactions).toEqual([]);
    tl = applyEvent(tl, ev(8, 'message.deleted', { message_id: 'm1', deleted_by: 'a@x' }));
    expect(tl.messages[0]).toMatchObject({ deleted: true, content: '' });
    // Other events leave the messages as they are (they are lines of their own).
    const after = applyEvent(tl, ev(9, 'member.added', {}));
    expect(after.messages).toBe(tl.messages);
    expect(after.notices.map((n) => n.kind)).toEqual(['event']);
  });

  it('typing runs out expires_in_ms after the last frame', () => {
    let t = addTyping({}, 'b@x', 'B', 3000, 1000);
    t = addTyping(t, 'b@x', 'B', 3000, 2500);
    expect(Object.keys(pruneTyping(t, 5000))).toEqual(['b@x']);
    expect(pruneTyping(t, 5500)).toEqual({});
  });

  it('edits only own text messages within the window', () => {
    const m = msg(1);
    const t0 = Date.parse(m.created_at);
    expect(canEdit(m, 'a@x', t0 + 60_000)).toBe(true);
    expect(canEdit(m, 'b@x', t0 + 60_000)).toBe(false);
    expect(canEdit(m, 'a@x', t0 + 901_000)).toBe(false);
    expect(canEdit({ ...m, message_type: 'image_ref' }, 'a@x', t0)).toBe(false);
  });
});

describe('report notices', () => {
  const at = (min: number) => `2026-01-01T00:${String(min).padStart(2, '0')}:00Z`;
  const rep = (id: string, finished: string | null, status: Report['status'] = 'completed'): Report => ({
    id, room_id: 'r', requested_by: 'a@x', language: 'en', ai: false, status, reason: null, created_at: at(0),
    finished_at: finished, file_name: `${id}.docx`, size: 1, sha256: 'x', content_url: `/c/${id}`,
  });
  const shape = (tl: Timeline) => timelineItems(tl).map((i) => (i.type === 'message' ? i.message.seq : i.notice.id));
  const page = (hasOlder: boolean) => mergeMessages(emptyTimeline, [msg(3, { created_at: at(3) }), msg(5, { created_at: at(5) }), msg(9, { created_at: at(9) })], hasOlder);

  it('places a report.created event by its seq, once', () => {
    let tl = applyEvent(page(false), { ...ev(6, 'report.created', { report: rep('x', at(6)) }), at: at(6) });
    tl = applyEvent(tl, { ...ev(6, 'report.created', { report: rep('x', at(6)) }), at: at(6) });
    expect(shape(tl)).toEqual([3, 5, 'x', 9]);
    expect(applyEvent(tl, ev(7, 'report.created', {}))).toBe(tl);
  });

  it('places reports from the list by time, and the event seq wins', () => {
    const notices = reportNotices([rep('late', at(10)), rep('mid', at(4)), rep('running', null, 'writing')]);
    expect(notices.map((n) => n.id)).toEqual(['late', 'mid']);
    let tl = mergeMessages(page(false), []);
    tl = { ...tl, notices };
    expect(shape(tl)).toEqual([3, 'mid', 5, 9, 'late']);
    tl = applyEvent(tl, { ...ev(10, 'report.created', { report: rep('mid', at(4)) }), at: at(9) });
    expect(shape(tl)).toEqual([3, 5, 9, 'mid', 'late']);
    expect(tl.notices).toHaveLength(2);
  });

  it('shows a room.escalated event as a line at its seq, once', () => {
    const data = { level: 1, after_secs: 60, notify: ['lin@x'], added: ['lin@x'] };
    let tl = applyEvent(page(false), { ...ev(7, 'room.escalated', data), at: at(7), actor: 'escalation' });
    tl = applyEvent(tl, { ...ev(7, 'room.escalated', data), at: at(7), actor: 'escalation' });
    expect(shape(tl)).toEqual([3, 5, 'escalated-7', 9]);
    const n = tl.notices[0]!;
    expect(n.kind === 'escalated' && n.escalation).toEqual(data);
  });

  it('leaves out notices older than the loaded page while history is missing', () => {
    const tl = { ...page(true), notices: reportNotices([rep('old', at(1)), rep('new', at(4))]) };
    expect(shape(tl)).toEqual([3, 'new', 5, 9]);
    expect(shape({ ...tl, hasOlder: false })).toEqual(['old', 3, 'new', 5, 9]);
  });

  it('keeps notices when messages are merged, and the live store loads them', () => {
    useLive.getState().clear();
    const s = useLive.getState();
    s.loadNotices('r', reportNotices([rep('x', at(4))]));
    expect(useLive.getState().timelines.r).toBeUndefined();
    s.loadPage('r', [msg(3, { created_at: at(3) })], false);
    s.loadNotices('r', reportNotices([rep('x', at(4))]));
    s.loadPage('r', [msg(5, { created_at: at(5) })], false);
    expect(shape(useLive.getState().timelines.r)).toEqual([3, 'x', 5]);
  });
});

describe('live store', () => {
  beforeEach(() => useLive.getState().clear());

  it('applies events only to loaded rooms and ends typing on a message', () => {
    const s = useLive.getState();
    s.event(ev(1, 'message.created', msg(1)));
    expect(useLive.getState().timelines.r).toBeUndefined();
    s.loadPage('r', [msg(1)], false);
    s.typingFrom('r', 'b@x', 'B', 3000, Date.now());
    s.event({ ...ev(2, 'message.created', msg(2)), actor: 'b@x' });
    expect(useLive.getState().timelines.r.messages).toHaveLength(2);
    expect(useLive.getState().typing.r).toEqual({});
  });

  it('tracks presence and forgets subscriptions when the connection drops', () => {
    const s = useLive.getState();
    s.setOnline('r', ['a@x']);
    s.presence('r', ['b@x', 'c@x'], ['a@x']);
    s.presence('r', [], ['c@x']);
    expect(useLive.getState().online.r).toEqual(['b@x']);
    s.setConnection('online');
    s.setSubscribed('r', true);
    s.setConnection('offline', 500);
    expect(useLive.getState().subscribed).toEqual({});
    expect(useLive.getState().retryInMs).toBe(500);
  });
});

describe('session store', () => {
  it('signs in and out, keeping the reason', () => {
    const user = { id: 'a@x', display_name: 'A', office_location: null, job_title: null, is_admin: false };
    useSession.getState().signIn('tok', user);
    expect(useSession.getState()).toMatchObject({ token: 'tok', user, reason: null });
    useSession.getState().signOut('session_revoked');
    expect(useSession.getState()).toMatchObject({ token: null, user: null, reason: 'session_revoked' });
  });
});

describe('a window of older history (a search hit)', () => {
  const seqs = (tl: Timeline) => tl.messages.map((m) => m.seq);
  const latest = mergeMessages(emptyTimeline, [msg(90), msg(91), msg(92)], true);

  it('replaces the latest page and holds live messages until the window meets the tail', () => {
    let tl = openWindow(latest, [msg(10), msg(11), msg(12)], true, true);
    expect(seqs(tl)).toEqual([10, 11, 12]);
    expect(tl).toMatchObject({ hasOlder: true, hasNewer: true, tail: [] });
    // A live message does not land after the window (that would hide a gap)...
    tl = applyEvent(tl, ev(95, 'message.created', msg(95)));
    expect(seqs(tl)).toEqual([10, 11, 12]);
    // ...but edits and deletions reach it where it is held.
    tl = applyEvent(tl, ev(96, 'message.edited', { message_id: 'm95', content: 'fixed', edited_at: '2026-01-01T00:02:00Z' }));
    tl = applyEvent(tl, ev(97, 'message.edited', { message_id: 'm11', content: 'old fixed', edited_at: '2026-01-01T00:02:00Z' }));
    expect(tl.messages[1].content).toBe('old fixed');
    tl = mergeNewer(tl, [msg(13), msg(14)], true);
    expect(seqs(tl)).toEqual([10, 11, 12, 13, 14]);
    expect(tl.hasNewer).toBe(true);
    tl = mergeNewer(tl, [msg(90), msg(91), msg(92)], false);
    expect(seqs(tl)).toEqual([10, 11, 12, 13, 14, 90, 91, 92, 95]);
    expect(tl.messages.at(-1)!.content).toBe('fixed');
    expect(tl).toMatchObject({ hasNewer: false, tail: [] });
    // At the tail, live messages are appended again.
    tl = applyEvent(tl, ev(98, 'message.created', msg(98)));
    expect(seqs(tl).at(-1)).toBe(98);
  });

  it('a live message that is also in the next page is shown once', () => {
    let tl = openWindow(latest, [msg(10)], false, true);
    tl = applyEvent(tl, ev(11, 'message.created', msg(11)));
    tl = mergeNewer(tl, [msg(11)], false);
    expect(seqs(tl)).toEqual([10, 11]);
  });

  it('going back to the latest page keeps live messages newer than it', () => {
    let tl = openWindow(latest, [msg(10)], false, true);
    tl = applyEvent(tl, ev(95, 'message.created', msg(95)));
    tl = openWindow(tl, [msg(91), msg(92)], true, false);
    expect(seqs(tl)).toEqual([91, 92, 95]);
    // A window that reaches the tail keeps what was loaded above it.
    const live = mergeMessages(latest, [msg(93)]);
    expect(seqs(openWindow(live, [msg(89), msg(90), msg(91)], true, false))).toEqual([89, 90, 91, 92, 93]);
  });

  it('leaves out notices beyond the end of a window', () => {
    let tl = openWindow(emptyTimeline, [msg(10), msg(12)], false, true);
    tl = mergeNotices(tl, [
      { kind: 'escalated', id: 'e11', seq: 11, at: '', escalation: { level: 1 } as never },
      { kind: 'escalated', id: 'e50', seq: 50, at: '', escalation: { level: 2 } as never },
    ]);
    const shape = timelineItems(tl).map((i) => (i.type === 'message' ? i.message.seq : i.notice.id));
    expect(shape).toEqual([10, 'e11', 12]);
    expect(timelineItems({ ...tl, hasNewer: false }).length).toBe(4);
  });
});
