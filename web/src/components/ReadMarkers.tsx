// Read markers in the timeline (issue 20): "seen by N" under my latest message,
// live from `read` frames, and the unread divider where I left off.

import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { api } from '../api/http';
import type { Member, Message, Room } from '../api/types';
import { useLang, useT } from '../i18n';
import { markers, nameOf, seenBy } from '../mentions';
import { useReads } from '../stores/reads';
import { useMembers } from './MembersPanel';

export interface Opened {
  /** My read marker then (`null` if it could not be read). */
  lastRead: number | null;
  /** The room's head then: later messages came in while I was here. */
  head: number;
}

/** Where I was when the room was opened (`undefined` while it loads): the members
 *  list and the room, fetched fresh on opening, before this client moves the marker. */
export function useOpenedAt(roomId: string, me: string): Opened | undefined {
  const qc = useQueryClient();
  const [at, setAt] = useState<{ room: string; opened: Opened } | null>(null);
  useEffect(() => {
    let cancelled = false;
    Promise.all([
      qc.fetchQuery({
        queryKey: ['members', roomId],
        queryFn: () => api<{ members: Member[] }>('GET', `/api/rooms/${roomId}/members`),
        staleTime: 0,
      }),
      api<Room>('GET', `/api/rooms/${roomId}`),
    ]).then(
      ([list, room]) => {
        const lastRead = list.members.find((m) => m.user_id === me)?.last_read_seq ?? null;
        if (!cancelled) setAt({ room: roomId, opened: { lastRead, head: room.head_seq } });
      },
      () => { if (!cancelled) setAt({ room: roomId, opened: { lastRead: null, head: 0 } }); },
    );
    return () => { cancelled = true; };
  }, [roomId, me, qc]);
  return at?.room === roomId ? at.opened : undefined;
}

export function UnreadDivider() {
  const t = useT();
  return (
    <div className="unread-divider" role="separator" data-testid="unread-divider">
      <span>{t('read.divider')}</span>
    </div>
  );
}

/** "Seen by N" under `m`, with the names behind a button. Nothing until someone has. */
export function SeenBy({ m, roomId, me }: { m: Message; roomId: string; me: string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const members = useMembers(roomId).data?.members ?? [];
  const live = useReads((s) => s.reads[roomId]);
  const [open, setOpen] = useState(false);
  const listId = useId();
  const who = seenBy(m, markers(members, live), me, members);
  if (who.length === 0) return null;
  const names = who.map((id) => {
    const member = members.find((x) => x.user_id === id);
    return member ? nameOf(member) : id;
  });
  return (
    <div className="seen-by" data-testid="seen-by">
      <button
        type="button"
        className="btn ghost small"
        aria-expanded={open}
        aria-controls={listId}
        title={names.join(lang === 'en' ? ', ' : '、')}
        onClick={() => setOpen(!open)}
      >
        ✓ {t('read.seenBy', { n: who.length })}
      </button>
      {open && (
        <ul className="seen-by-list" id={listId} aria-label={t('read.seenByList')} data-testid="seen-by-list">
          {names.map((n, i) => <li key={who[i]}>{n}</li>)}
        </ul>
      )}
    </div>
  );
}
