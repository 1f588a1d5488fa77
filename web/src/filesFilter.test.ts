import { describe, expect, it } from 'vitest';
import { countByFilter, filterFiles } from './filesFilter';

const files = [
  { id: 'a', kind: 'image' },
  { id: 'b', kind: 'document' },
  { id: 'c', kind: 'log' },
  { id: 'd', kind: 'image' },
  { id: 'e', kind: 'some-future-kind' },
];

describe('files filter', () => {
  it('counts each kind, unknown kinds as other', () => {
    expect(countByFilter(files)).toEqual({ all: 5, images: 2, documents: 1, other: 2 });
    expect(countByFilter([])).toEqual({ all: 0, images: 0, documents: 0, other: 0 });
  });

  it('keeps only the files of the chosen kind, in order', () => {
    expect(filterFiles(files, 'images').map((f) => f.id)).toEqual(['a', 'd']);
    expect(filterFiles(files, 'documents').map((f) => f.id)).toEqual(['b']);
    expect(filterFiles(files, 'other').map((f) => f.id)).toEqual(['c', 'e']);
    expect(filterFiles(files, 'all').map((f) => f.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
