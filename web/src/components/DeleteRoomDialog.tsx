// Permanent deletion of a room (system administrators): a danger zone that opens
// a dialog; the room's title must be typed exactly before the button is enabled.

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError } from '../api/http';
import type { Room } from '../api/types';
import { useT } from '../i18n';
import { titleMatches, useRoomGone } from '../stores/roomGone';
import { Dialog } from './Dialog';

export function DangerZone({ room }: { room: Room }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <section className="danger-zone" aria-labelledby="danger-zone-h" data-testid="danger-zone">
      <h3 id="danger-zone-h">{t('del.zone')}</h3>
      <p className="muted">{t('del.explain')}</p>
      <button type="button" className="btn danger" data-testid="delete-room" onClick={() => setOpen(true)}>{t('del.open')}</button>
      <Dialog open={open} onClose={() => setOpen(false)} title={t('del.title')}>
        <DeleteRoomForm room={room} onCancel={() => setOpen(false)} />
      </Dialog>
    </section>
  );
}

function DeleteRoomForm({ room, onCancel }: { room: Room; onCancel: () => void }) {
  const t = useT();
  const qc = useQueryClient();
  const nav = useNavigate();
  const [typed, setTyped] = useState('');
  const ok = titleMatches(typed, room.title);
  const del = useMutation({
    mutationFn: () => api<void>('DELETE', `/api/rooms/${room.id}/permanent`),
    onSuccess: () => {
      useRoomGone.getState().deleted({ roomId: room.id, title: room.title, by: null });
      void qc.invalidateQueries({ queryKey: ['rooms'] });
      nav('/', { replace: true });
      qc.removeQueries({ queryKey: ['room', room.id] });
    },
  });
  return (
    <form className="form delete-room" data-testid="delete-room-dialog"
      onSubmit={(e) => { e.preventDefault(); if (ok && !del.isPending) del.mutate(); }}>
      <h2>{t('del.title')}</h2>
      <p className="notice error" role="note">{t('del.warn', { title: room.title })}</p>
      <div className="field">
        <label htmlFor="delete-room-title">{t('del.typeTitle')}</label>
        <code className="delete-room-title" aria-hidden>{room.title}</code>
        <input id="delete-room-title" name="confirm-title" autoComplete="off" spellCheck={false} autoFocus value={typed}
          aria-invalid={(typed !== '' && !ok) || undefined} aria-describedby={typed !== '' && !ok ? 'delete-room-mismatch' : undefined}
          onChange={(e) => setTyped(e.target.value)} />
        {typed !== '' && !ok && <small className="muted" id="delete-room-mismatch">{t('del.mismatch')}</small>}
      </div>
      {del.error && <div className="notice error" role="alert">{t('del.failed', { msg: (del.error as ApiError).message })}</div>}
      <div className="actions">
        <button type="button" className="btn ghost" onClick={onCancel}>{t('create.cancel')}</button>
        <button type="submit" className="btn danger" data-testid="delete-room-confirm" disabled={!ok || del.isPending}>
          {del.isPending ? t('del.deleting') : t('del.confirm')}
        </button>
      </div>
    </form>
  );
}
