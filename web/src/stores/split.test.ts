import { describe, expect, it } from 'vitest';
import { listSearch, roomPath } from './split';

describe('the room list filters in a room address', () => {
  it('keeps the list parameters and drops the room ones', () => {
    const p = new URLSearchParams('status=active&panel=members&q=oven&report=r1&mine=true&page=2&severity=');
    expect(listSearch(p)).toBe('?status=active&mine=true&q=oven&page=2');
    expect(roomPath('abc', p)).toBe('/rooms/abc?status=active&mine=true&q=oven&page=2');
  });

  it('no filters: a plain room address', () => {
    expect(roomPath('abc', new URLSearchParams('panel=files'))).toBe('/rooms/abc');
  });
});
