import { describe, expect, it } from 'vitest';
import { checkQuery, highlight, snippet } from './search';

describe('search helpers', () => {
  it('checks the query as the server does', () => {
    expect(checkQuery('  過熱 ')).toEqual({ ok: true, q: '過熱' });
    expect(checkQuery('   ')).toEqual({ ok: false, reason: 'empty' });
    expect(checkQuery('長'.repeat(200))).toEqual({ ok: true, q: '長'.repeat(200) });
    expect(checkQuery('長'.repeat(201))).toEqual({ ok: false, reason: 'long' });
  });

  it('highlights every match case-insensitively, in any script', () => {
    expect(highlight('三號線馬達過熱停機，過熱', '過熱')).toEqual([
      { text: '三號線馬達', hit: false }, { text: '過熱', hit: true }, { text: '停機，', hit: false }, { text: '過熱', hit: true },
    ]);
    expect(highlight('Motor OVERHEAT', 'overheat')).toEqual([{ text: 'Motor ', hit: false }, { text: 'OVERHEAT', hit: true }]);
    expect(highlight('aaa', 'aa')).toEqual([{ text: 'aa', hit: true }, { text: 'a', hit: false }]);
    expect(highlight('😀 pump 😀', 'PUMP')).toEqual([{ text: '😀 ', hit: false }, { text: 'pump', hit: true }, { text: ' 😀', hit: false }]);
    expect(highlight('no match', 'xyz')).toEqual([{ text: 'no match', hit: false }]);
    expect(highlight('', 'x')).toEqual([]);
  });

  it('cuts a long text around its first match', () => {
    const text = 'a'.repeat(500) + '過熱' + 'b'.repeat(500);
    const s = snippet(text, '過熱', 100);
    expect(s).toContain('過熱');
    expect(s.startsWith('…') && s.endsWith('…')).toBe(true);
    expect([...s].length).toBeLessThanOrEqual(102);
    expect(snippet('short', 'x')).toBe('short');
    expect(snippet('x'.repeat(300), 'nothing', 50)).toBe('x'.repeat(50) + '…');
  });
});
