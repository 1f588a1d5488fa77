import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../api/http';
import type { Pin, Room } from '../api/types';
import { getClient } from '../connection';
import { formatTime, useLang, useT } from '../i18n';
import { useLive } from '../stores/live';
import { errorText, scrollToMessage } from './MessageList';

/** The room's pins, in pin order (`GET /api/rooms/{id}/pins`). */
export function usePins(roomId: string) {
  return useQuery({
    queryKey: ['pins', roomId],
    queryFn: () => api<{ pins: Pin[]; max: number }>('GET', `/api/rooms/${roomId}/pins`),
  });
}

/**
 * Reloads the room's pins whenever a pin event arrives over the socket (or a
 * pinned message changes: an edit, a deletion), so the panel follows the room live.
 */
function useLivePins(roomId: string) {
  const qc = useQueryClient();
  const lastPinEvent = useLive((s) => {
    const tl = s.timelines[roomId];
    if (!tl) return 0;
    let seq = 0;
    for (const n of tl.notices) {
      if (n.kind === 'event' && n.event.kind.startsWith('message.') && (n.seq ?? 0) > seq) seq = n.seq ?? 0;
    }
    return seq;
  });
  const pinnedState = useLive((s) =>
    (s.timelines[roomId]?.messages ?? []).filter((m) => m.pinned).map((m) => `${m.id}:${m.edited_at ?? ''}:${m.deleted}`).join(','));
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['pins', roomId] });
  }, [qc, roomId, lastPinEvent, pinnedState]);
}

export function PinsPanel({ room, canWrite }: { room: Room; canWrite: boolean }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const pins = usePins(room.id);
  useLivePins(room.id);
  const [note, setNote] = useState<string | null>(null);
  const list = pins.data?.pins ?? [];
  const open = (p: Pin) => setNote(scrollToMessage(p.message.id) ? null : t('pins.notLoaded'));
  const unpin = (p: Pin) => {
    const c = getClient();
    if (c) c.pin(room.id, p.message.id, false).catch((e) => setNote(errorText(t, e)));
  };
  return (
    <section className="panel" aria-label={t('pins.title')} data-testid="pins-panel">
      <h2>{t('pins.title')} <span className="muted">({t('pins.count', { n: list.length, max: pins.data?.max ?? 50 })})</span></h2>
      {note && <div className="notice" role="status">{note}</div>}
      {pins.data && list.length === 0 && <p className="muted">{t('pins.empty')}</p>}
      <ol className="pin-list">
        {list.map((p) => {
          const m = p.message;
          const text = m.content || (m.file ? t('pins.file', { name: m.file.name }) : '');
          return (
            <li key={m.id} data-testid="pin-item" data-id={m.id}>
              <button className="pin-open" onClick={() => open(p)}>
                <strong>{m.sender_name ?? m.sender}</strong> <small className="muted">{formatTime(m.created_at, lang)}</small>
                <span className="pin-text">{text}</span>
                <small className="muted">{t('pins.by', { who: p.pinned_by_name ?? p.pinned_by, at: formatTime(p.pinned_at, lang) })}</small>
              </button>
              {canWrite && room.status !== 'archived' && (
                <div className="pin-row-actions">
                  <button className="btn small ghost" onClick={() => unpin(p)}>{t('msg.unpin')}</button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
