import { describe, expect, it } from 'vitest';
import type { Message, RoomEvent } from '../api/types';
import { translate, type Key } from '../i18n';
import { EVENT_KINDS } from '../protocol/generated';
import { EVENT_EFFECTS, isLine, systemLineText } from './systemLines';
import { applyEvent, emptyTimeline, eventNotices, mergeMessages, timelineItems } from './timeline';

const ev = (seq: number, kind: string, data: unknown, actor = 'wang@x'): RoomEvent =>
  ({ type: 'event', room_id: 'r', seq, kind, at: `2026-01-01T00:${String(seq).padStart(2, '0')}:00Z`, actor, data });
const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`, room_id: 'r', seq, sender: 'lin@x', sender_name: '林', message_type: 'text', content: `c${seq}`,
  metadata: {}, client_id: `c${seq}`, created_at: '2026-01-01T00:00:00Z', edited_at: null, deleted: false,
  reactions: [], file: null, ...extra,
});
const names: Record<string, string> = { 'wang@x': '王小明', 'lin@x': '林小華' };
const nameOf = (id: string) => names[id] ?? id;
const zh = (key: Key, vars?: Record<string, string | number>) => translate('zh-Hant', key, vars);
const en = (key: Key, vars?: Record<string, string | number>) => translate('en', key, vars);

/** Realistic data of each kind that shows as a line (the server's shapes). */
const SAMPLES: Record<string, unknown> = {
  'message.pinned': { message_id: 'm1', message_seq: 1, sender: 'lin@x' },
  'message.unpinned': { message_id: 'm1', message_seq: 1, sender: 'lin@x' },
  'file.added': { file: { id: 'f1', name: 'motor.jpg' }, message_id: 'm2' },
  'file.deleted': { file_id: 'f1', message_id: 'm2' },
  'member.added': { user_id: 'lin@x', role: 'editor', added_by: 'wang@x' },
  'member.removed': { user_id: 'lin@x', removed_by: 'wang@x', left: false },
  'member.role_changed': { user_id: 'lin@x', from: 'viewer', to: 'editor' },
  'ownership.transferred': { from: 'wang@x', to: 'lin@x' },
  'room.updated': { changed: ['severity'], room: { severity: 'critical' } },
  'room.status_changed': { from: 'active', to: 'resolved', resolution_notes: 'belt replaced' },
  'room.acknowledged': { at: '2026-01-01T00:05:00Z', by: 'wang@x' },
  'room.contained': { at: '2026-01-01T00:06:00Z', by: 'wang@x' },
  'report.created': { report: { id: 'rep1', status: 'completed', language: 'zh-TW', requested_by: 'wang@x' } },
  'room.escalated': { level: 2, after_secs: 600, notify: ['lin@x'], added: [] },
  'room.deleted': {},
};

describe('every event kind maps to a message change or a system line', () => {
  it('has a mapping for each kind of the generated protocol', () => {
    expect(EVENT_KINDS.length).toBeGreaterThan(0);
    for (const kind of EVENT_KINDS) {
      expect(EVENT_EFFECTS[kind], `no mapping for ${kind}`).toMatch(/^(message|line|both)$/);
    }
    // And nothing is mapped that the protocol does not have.
    expect(Object.keys(EVENT_EFFECTS).sort()).toEqual([...EVENT_KINDS].sort());
  });

  it('gives each line kind a notice and a text in both languages, without e-mails for known people', () => {
    for (const kind of EVENT_KINDS) {
      const e = ev(5, kind, SAMPLES[kind] ?? {});
      if (!isLine(kind)) {
        expect(eventNotices([e]), kind).toEqual([]);
        continue;
      }
      expect(SAMPLES[kind], `a sample of ${kind}`).toBeDefined();
      const [notice] = eventNotices([e]);
      expect(notice, kind).toBeDefined();
      expect(notice.seq).toBe(5);
      for (const t of [zh, en]) {
        const text = systemLineText(e, t, nameOf);
        expect(text, kind).not.toMatch(/[{}]|@x|^Event:|^事件：/);
        expect(text.length, kind).toBeGreaterThan(3);
      }
      // Even data of an unexpected shape gives a line, not an exception.
      expect(() => systemLineText(ev(6, kind, null), zh, nameOf)).not.toThrow();
    }
  });

  it('an unmapped kind is not a line and reads as an unknown event', () => {
    expect(isLine('room.teleported')).toBe(false);
    expect(systemLineText(ev(1, 'room.teleported', {}), en, nameOf)).toBe('Event: room.teleported');
  });
});

describe('system line texts', () => {
  it('say who did what in zh-TW and in English, by display name', () => {
    const cases: [RoomEvent, string, string][] = [
      [ev(1, 'member.added', SAMPLES['member.added']), '王小明 將 林小華 加入事件室（編輯者）', '王小明 added 林小華 (Editor)'],
      [ev(2, 'member.added', { user_id: 'lin@x', role: 'viewer', added_by: 'lin@x', joined: true }, 'lin@x'), '林小華 加入事件室（檢視者）', '林小華 joined (Viewer)'],
      [ev(3, 'member.added', { user_id: 'lin@x', role: 'editor', added_by: 'routing', rule: 'SMT night' }, 'routing'), '路由規則「SMT night」將 林小華 加入事件室（編輯者）', 'Routing rule "SMT night" added 林小華 (Editor)'],
      [ev(4, 'member.removed', { user_id: 'lin@x', removed_by: 'lin@x', left: true }, 'lin@x'), '林小華 離開事件室', '林小華 left the room'],
      [ev(5, 'room.status_changed', SAMPLES['room.status_changed']), '王小明 將事件標記為已解決', '王小明 marked the incident resolved'],
      [ev(6, 'room.status_changed', { from: 'resolved', to: 'active' }), '王小明 重新開啟了事件', '王小明 reopened the incident'],
      [ev(7, 'room.acknowledged', SAMPLES['room.acknowledged']), '王小明 確認接手此事件', '王小明 acknowledged the incident'],
      [ev(8, 'room.updated', SAMPLES['room.updated']), '王小明 將嚴重度改為「緊急」', '王小明 changed the severity to Critical'],
      [ev(9, 'room.updated', { changed: ['title', 'lots'], room: {} }), '王小明 更新了標題、批號', '王小明 updated the title, LOTs'],
      [ev(10, 'ownership.transferred', SAMPLES['ownership.transferred']), '王小明 將擁有權移交給 林小華', '王小明 transferred ownership to 林小華'],
      [ev(11, 'file.added', SAMPLES['file.added']), '王小明 上傳了檔案 motor.jpg', '王小明 uploaded motor.jpg'],
      [ev(12, 'message.pinned', SAMPLES['message.pinned']), '王小明 釘選了一則訊息', '王小明 pinned a message'],
      [ev(13, 'message.unpinned', { message_id: 'm1', deleted: true }), '已刪除的訊息不再釘選', 'A deleted message is no longer pinned'],
      [ev(14, 'member.role_changed', SAMPLES['member.role_changed']), '王小明 將 林小華 的角色改為編輯者', '王小明 made 林小華 Editor'],
    ];
    for (const [e, zhText, enText] of cases) {
      expect(systemLineText(e, zh, nameOf)).toBe(zhText);
      expect(systemLineText(e, en, nameOf)).toBe(enText);
    }
  });

  it('falls back to the e-mail of someone unknown', () => {
    expect(systemLineText(ev(1, 'member.removed', { user_id: 'gone@x', left: false }), en, nameOf)).toBe('王小明 removed gone@x');
  });
});

describe('pins and lines in the timeline', () => {
  it('a pin event marks the message and adds a line in seq order; an unpin clears it', () => {
    let tl = mergeMessages(emptyTimeline, [msg(1), msg(3)], false);
    tl = applyEvent(tl, ev(4, 'message.pinned', { message_id: 'm1', message_seq: 1 }));
    expect(tl.messages[0].pinned).toBe(true);
    expect(tl.messages[1].pinned).toBeFalsy();
    tl = applyEvent(tl, ev(2, 'member.added', SAMPLES['member.added']));
    const order = timelineItems(tl).map((i) => (i.type === 'message' ? `m${i.message.seq}` : `n${i.notice.seq}`));
    expect(order).toEqual(['m1', 'n2', 'm3', 'n4']);
    tl = applyEvent(tl, ev(5, 'message.unpinned', { message_id: 'm1', message_seq: 1 }));
    expect(tl.messages[0].pinned).toBe(false);
    expect(tl.notices.map((n) => n.seq)).toEqual([4, 2, 5]);
    // The same event twice (a replay) is one line.
    expect(applyEvent(tl, ev(5, 'message.unpinned', { message_id: 'm1' })).notices).toHaveLength(3);
  });

  it("a history page's events become lines without touching its messages", () => {
    const page = [msg(10, { pinned: false })];
    const lines = eventNotices([ev(9, 'message.pinned', { message_id: 'm10' }), ev(8, 'message.created', msg(8)), ev(7, 'room.contained', {})]);
    expect(lines.map((n) => n.seq)).toEqual([9, 7]);
    const tl = mergeMessages(emptyTimeline, page, false);
    expect(tl.messages[0].pinned).toBe(false);
  });
});
