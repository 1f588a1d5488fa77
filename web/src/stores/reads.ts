// Read markers of other members, from `read` frames (docs/PROTOCOL.md): what
// "seen by" counts on top of the members list's `last_read_seq`.

import { create } from 'zustand';

interface ReadsState {
  /** room → user → the highest seq read. */
  reads: Record<string, Record<string, number>>;
  read(room: string, user: string, seq: number): void;
}

export const useReads = create<ReadsState>((set) => ({
  reads: {},
  read: (room, user, seq) =>
    set((s) => {
      const cur = s.reads[room]?.[user] ?? 0;
      if (seq <= cur) return s;
      return { reads: { ...s.reads, [room]: { ...s.reads[room], [user]: seq } } };
    }),
}));
