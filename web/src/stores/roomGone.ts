// Rooms deleted permanently while this session knew them: the room's page leaves
// them for the list, which says what happened (in the language shown then).

import { create } from 'zustand';

export interface GoneNotice {
  roomId: string;
  /** The room's title when it was deleted, if this client had it. */
  title: string | null;
  /** Who deleted it; null when it was this user, from this page. */
  by: string | null;
}

interface RoomGoneState {
  /** Rooms known to be deleted, by id. */
  gone: Record<string, GoneNotice>;
  /** The last deletion to tell the user about, until dismissed. */
  notice: GoneNotice | null;
  /** Records a deletion; the first report of a room wins (its own request, then the event). */
  deleted(n: GoneNotice): void;
  dismiss(): void;
}

export const useRoomGone = create<RoomGoneState>((set) => ({
  gone: {},
  notice: null,
  deleted: (n) => set((s) => (s.gone[n.roomId] ? s : { gone: { ...s.gone, [n.roomId]: n }, notice: n })),
  dismiss: () => set({ notice: null }),
}));

/** Whether `typed` is the room's title exactly (no trimming: it must match as shown). */
export function titleMatches(typed: string, title: string): boolean {
  return typed === title;
}
