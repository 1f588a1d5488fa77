import { describe, expect, it } from 'vitest';
import {
  activeMention, dividerBefore, insertMention, latestOwn, markers, mentionMetadata, mentionsMe, seenBy, segments, suggest,
  type Suggestion,
} from './mentions';

const members = [
  { id: 'meiling.chen@plant.test', name: '陳美玲' },
  { id: 'chen.wei@plant.test', name: '陳偉' },
  { id: 'ann.lee@plant.test', name: 'Ann Lee' },
  { id: 'bob@plant.test', name: 'Bob Chang' },
  { id: 'wang.l@plant.test', name: 'Lee Wang' },
  { id: 'me@plant.test', name: 'Me Myself' },
];
const ME = 'me@plant.test';

describe('the mention being typed', () => {
  it('starts at an @ at the start or after a space and runs to the caret', () => {
    expect(activeMention('@陳', 2)).toEqual({ start: 0, query: '陳' });
    expect(activeMention('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(activeMention('hi @', 4)).toEqual({ start: 3, query: '' });
  });
  it('is not an e-mail address nor a finished word', () => {
    expect(activeMention('mail ann@plant', 14)).toBeNull();
    expect(activeMention('@ann lee', 8)).toBeNull();
    expect(activeMention('no at here', 5)).toBeNull();
  });
});

describe('autocomplete', () => {
  const ids = (s: Suggestion[]) => s.map((x) => x.id);
  it('matches Chinese names by any of their characters, the name start first', () => {
    expect(ids(suggest(members, '陳', ME, false))).toEqual(['chen.wei@plant.test', 'meiling.chen@plant.test']);
    expect(ids(suggest(members, '美玲', ME, false))).toEqual(['meiling.chen@plant.test']);
  });
  it('matches English names by word and e-mails, case-insensitively, never me', () => {
    expect(ids(suggest(members, 'lee', ME, false))).toEqual(['wang.l@plant.test', 'ann.lee@plant.test']);
    expect(ids(suggest(members, 'CHANG', ME, false))).toEqual(['bob@plant.test']);
    expect(ids(suggest(members, 'meiling', ME, false))).toEqual(['meiling.chen@plant.test']);
    expect(ids(suggest(members, 'me', ME, false))).toEqual(['meiling.chen@plant.test']);
    expect(suggest(members, 'zzz', ME, false)).toEqual([]);
  });
  it('offers everyone only to those who may, under either label', () => {
    expect(ids(suggest(members, 'al', ME, false))).toEqual([]);
    const all = suggest(members, 'al', ME, true);
    expect(all.map((s) => [s.id, s.label])).toEqual([['all', 'all']]);
    expect(suggest(members, '所有', ME, true).map((s) => s.label)).toEqual(['所有人']);
    expect(suggest(members, '', ME, true, '所有人').at(-1)).toMatchObject({ id: 'all', label: '所有人' });
    expect(suggest(members, '', ME, true)).toHaveLength(6);
  });
  it('inserts the name and moves the caret past it', () => {
    expect(insertMention('hi @陳 there', 3, 5, '陳美玲')).toEqual({ text: 'hi @陳美玲 there', caret: 8 });
    expect(insertMention('@a', 0, 2, 'Ann Lee')).toEqual({ text: '@Ann Lee ', caret: 9 });
  });
});

describe('what a message carries', () => {
  const chen: Suggestion = { id: 'meiling.chen@plant.test', label: '陳美玲', detail: '', all: false };
  const all: Suggestion = { id: 'all', label: '所有人', detail: '', all: true };
  it('keeps the picks still written, once', () => {
    expect(mentionMetadata('@陳美玲 please check, @陳美玲', [chen, chen])).toEqual({ mentions: ['meiling.chen@plant.test'] });
    expect(mentionMetadata('never mind', [chen, all])).toEqual({});
    expect(mentionMetadata('@所有人 stop the line', [all])).toEqual({ mention_all: true });
  });
});

describe('highlighting', () => {
  const name = (id: string) => members.find((m) => m.id === id)?.name ?? id;
  const msg = (metadata: Record<string, unknown>, sender = 'bob@plant.test') => ({ metadata, sender });
  it('marks the mentions the message carries, and me more', () => {
    const m = msg({ mentions: ['meiling.chen@plant.test', ME] });
    expect(segments('@陳美玲 and @Me Myself: go', m, ME, name)).toEqual([
      { text: '@陳美玲', mention: 'meiling.chen@plant.test', me: false },
      { text: ' and ' },
      { text: '@Me Myself', mention: ME, me: true },
      { text: ': go' },
    ]);
    expect(mentionsMe(m, ME)).toBe(true);
  });
  it('leaves @words that are no mention of the message alone', () => {
    expect(segments('@陳美玲 hi', msg({}), ME, name)).toEqual([{ text: '@陳美玲 hi' }]);
    expect(segments('@Ann Lee hi', msg({ mentions: ['meiling.chen@plant.test'] }), ME, name)).toEqual([{ text: '@Ann Lee hi' }]);
  });
  it('marks everyone, which mentions me unless I wrote it', () => {
    expect(segments('@all stop', msg({ mention_all: true }), ME, name)[0]).toEqual({ text: '@all', mention: 'all', me: true });
    expect(mentionsMe(msg({ mention_all: true }, ME), ME)).toBe(false);
  });
});

describe('seen by and the unread divider', () => {
  const list = [
    { user_id: ME, last_read_seq: 9 },
    { user_id: 'a@x', last_read_seq: 4 },
    { user_id: 'b@x', last_read_seq: 2 },
    { user_id: 'c@x', last_read_seq: 7 },
  ];
  it('takes the later of the listed marker and the live frames', () => {
    expect(markers(list, { 'b@x': 5, 'a@x': 3 })).toEqual({ [ME]: 9, 'a@x': 4, 'b@x': 5, 'c@x': 7 });
  });
  it('counts the others who read up to the message', () => {
    const marks = markers(list, { 'b@x': 5 });
    expect(seenBy({ seq: 5, sender: ME }, marks, ME, list)).toEqual(['b@x', 'c@x']);
    expect(seenBy({ seq: 8, sender: ME }, marks, ME, list)).toEqual([]);
    expect(seenBy({ seq: 4, sender: 'a@x' }, marks, ME, list)).toEqual(['b@x', 'c@x']);
  });
  const m = (seq: number, sender: string, message_type: 'text' | 'system' = 'text') => ({ id: `m${seq}`, seq, sender, message_type, deleted: false });
  it('goes above the first message of someone else after where I left off', () => {
    const msgs = [m(1, 'a@x'), m(2, ME), m(3, ME), m(4, 'system', 'system'), m(5, 'a@x'), m(6, 'b@x')];
    expect(dividerBefore(msgs, 1, ME)).toBe('m5');
    expect(dividerBefore(msgs, 5, ME)).toBe('m6');
    expect(dividerBefore(msgs, 6, ME)).toBeNull();
    expect(dividerBefore(msgs, null, ME)).toBeNull();
    expect(dividerBefore(msgs, 0, ME)).toBe('m1');
  });
  it('puts seen-by under my latest message', () => {
    expect(latestOwn([m(1, ME), m(2, 'a@x'), m(3, ME), m(4, 'a@x')], ME)?.id).toBe('m3');
    expect(latestOwn([m(1, 'a@x')], ME)).toBeUndefined();
  });
});
