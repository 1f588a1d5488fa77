// The signed-in session, kept in localStorage so a reload stays signed in. Any 401
// (REST or close code 4001) clears it and leaves a reason for the login screen.

import { create } from 'zustand';
import type { User } from '../api/types';

const KEY = 'andon.session';

export interface SessionState {
  token: string | null;
  user: User | null;
  /** Why the user was sent back to the login screen (an error code), if they were. */
  reason: string | null;
  signIn(token: string, user: User): void;
  signOut(reason?: string | null): void;
  setUser(user: User): void;
}

function load(): { token: string | null; user: User | null } {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (raw) {
      const v = JSON.parse(raw);
      if (typeof v.token === 'string' && v.user) return { token: v.token, user: v.user };
    }
  } catch {
    /* corrupt: start signed out */
  }
  return { token: null, user: null };
}

function save(token: string | null, user: User | null) {
  try {
    if (token) globalThis.localStorage?.setItem(KEY, JSON.stringify({ token, user }));
    else globalThis.localStorage?.removeItem(KEY);
  } catch {
    /* private mode: the session lasts for this page only */
  }
}

export const useSession = create<SessionState>((set, get) => ({
  ...load(),
  reason: null,
  signIn(token, user) {
    save(token, user);
    set({ token, user, reason: null });
  },
  signOut(reason = null) {
    save(null, null);
    if (get().token || reason) set({ token: null, user: null, reason });
  },
  setUser(user) {
    save(get().token, user);
    set({ user });
  },
}));
