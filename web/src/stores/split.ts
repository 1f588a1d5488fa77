// The desktop split view: the room list stays beside the open room, so the list's
// filters travel in the room's address, next to the room's own parameters.

import { useSyncExternalStore } from 'react';

/** The room list's own search parameters (RoomListPage). */
export const LIST_PARAMS = ['status', 'incident_type', 'severity', 'mine', 'q', 'page'] as const;

/** The width from which the list is shown beside the open room. */
export const SPLIT_QUERY = '(min-width: 1200px)';

/** The list's parameters of `params` (none of the room's, such as `panel`), as a search string. */
export function listSearch(params: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const k of LIST_PARAMS) {
    const v = params.get(k);
    if (v) out.set(k, v);
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}

/** A room's address that keeps the list's filters. */
export function roomPath(roomId: string, params: URLSearchParams): string {
  return `/rooms/${roomId}${listSearch(params)}`;
}

/** Whether a media query matches, following changes. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (cb) => {
      const m = window.matchMedia(query);
      m.addEventListener('change', cb);
      return () => m.removeEventListener('change', cb);
    },
    () => window.matchMedia(query).matches,
    () => false,
  );
}
