import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES, type IncidentType, type Role, type Room, type Severity } from '../api/types';
import { formatTime, useLang, useT } from '../i18n';
import { DangerZone } from './DeleteRoomDialog';
import { useMembers } from './MembersPanel';

export function SettingsPanel({ room, role, isAdmin, onReport }: { room: Room; role: Role | null; isAdmin: boolean; onReport?: () => void }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const isOwner = role === 'owner' || isAdmin;
  const canEdit = (role === 'editor' || isOwner) && room.status !== 'archived';
  const [f, setF] = useState(() => fields(room));
  const [lotDraft, setLotDraft] = useState('');
  const [notes, setNotes] = useState('');
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [newOwner, setNewOwner] = useState('');
  const [justResolved, setJustResolved] = useState(false);
  const members = useMembers(room.id, isOwner);
  useEffect(() => setF(fields(room)), [room]);

  const onSuccess = (r: Room) => {
    qc.setQueryData(['room', room.id], r);
    void qc.invalidateQueries({ queryKey: ['rooms'] });
    setError(null);
    setSaved(true);
    setTimeout(() => setSaved(false), 2500);
  };
  const onError = (e: unknown) => { setSaved(false); setError(e instanceof ApiError ? e.message : String(e)); };
  const patch = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<Room>('PATCH', `/api/rooms/${room.id}`, body),
    onSuccess: (r: Room, body) => {
      onSuccess(r);
      setJustResolved(body.status === 'resolved');
    },
    onError,
  });
  const transfer = useMutation({
    mutationFn: (user_id: string) => api('POST', `/api/rooms/${room.id}/transfer`, { user_id }),
    onSuccess: () => {
      setNewOwner('');
      void qc.invalidateQueries({ queryKey: ['room', room.id] });
      void qc.invalidateQueries({ queryKey: ['members', room.id] });
    },
    onError,
  });

  const save = (e: React.FormEvent) => {
    e.preventDefault();
    const orig = fields(room);
    const body: Record<string, unknown> = {};
    for (const k of Object.keys(f) as (keyof typeof f)[]) {
      if (JSON.stringify(f[k]) !== JSON.stringify(orig[k])) body[k] = k === 'title' ? (f[k] as string).trim() : f[k];
    }
    if (Object.keys(body).length) patch.mutate(body);
  };
  const addLot = () => {
    const v = lotDraft.trim();
    if (v && !f.lots.includes(v)) setF({ ...f, lots: [...f.lots, v] });
    setLotDraft('');
  };

  return (
    <section className="panel settings" aria-label={t('room.settings')} data-testid="settings-panel">
      <h2>{t('room.settings')}</h2>
      {error && <div className="notice error" role="alert">{error}</div>}
      {saved && <div className="notice ok" role="status">{t('settings.saved')}</div>}
      {!canEdit && room.status !== 'archived' && <p className="muted">{t('settings.readonly')}</p>}
      <form className="form" onSubmit={save}>
        <fieldset disabled={!canEdit}>
          <label className="field"><span>{t('create.name')}</span><input required maxLength={200} value={f.title} onChange={(e) => setF({ ...f, title: e.target.value })} /></label>
          <div className="row2">
            <label className="field"><span>{t('rooms.type')}</span>
              <select value={f.incident_type} onChange={(e) => setF({ ...f, incident_type: e.target.value as IncidentType })}>
                {INCIDENT_TYPES.map((x) => <option key={x} value={x}>{t(`type.${x}`)}</option>)}
              </select>
            </label>
            <label className="field"><span>{t('rooms.severity')}</span>
              <select value={f.severity} onChange={(e) => setF({ ...f, severity: e.target.value as Severity })}>
                {SEVERITIES.map((x) => <option key={x} value={x}>{t(`sev.${x}`)}</option>)}
              </select>
            </label>
          </div>
          <label className="field"><span>{t('create.location')}</span><input maxLength={200} value={f.location} onChange={(e) => setF({ ...f, location: e.target.value })} /></label>
          <div className="row2">
            <label className="field"><span>{t('create.line')}</span><input maxLength={200} value={f.line} onChange={(e) => setF({ ...f, line: e.target.value })} /></label>
            <label className="field"><span>{t('create.equipment')}</span><input maxLength={200} value={f.equipment} onChange={(e) => setF({ ...f, equipment: e.target.value })} /></label>
          </div>
          <label className="field"><span>{t('create.description')}</span><textarea rows={4} maxLength={10000} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} /></label>
          <div className="field">
            <span>{t('settings.lots')}</span>
            <div className="chips">
              {f.lots.map((l) => (
                <span key={l} className="chip">{l}{canEdit && <button type="button" className="chip-x" aria-label={`✕ ${l}`} onClick={() => setF({ ...f, lots: f.lots.filter((x) => x !== l) })}>✕</button>}</span>
              ))}
            </div>
            {canEdit && (
              <div className="inline-add">
                <input aria-label={t('settings.lots')} maxLength={64} value={lotDraft} onChange={(e) => setLotDraft(e.target.value)}
                  onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); addLot(); } }} />
                <button type="button" className="btn" onClick={addLot}>{t('settings.addLot')}</button>
              </div>
            )}
          </div>
          {canEdit && <button className="btn primary" type="submit" disabled={patch.isPending}>{t('settings.save')}</button>}
        </fieldset>
      </form>

      <h3>{t('settings.lifecycle')}</h3>
      {room.resolution_notes && (
        <div className="resolution"><strong>{t('settings.resolution')}</strong>{room.resolved_at && <small className="muted"> · {formatTime(room.resolved_at, lang)}</small>}<p>{room.resolution_notes}</p></div>
      )}
      {room.status === 'active' && canEdit && (
        <form className="form" onSubmit={(e) => { e.preventDefault(); patch.mutate({ status: 'resolved', resolution_notes: notes.trim() }); }}>
          <label className="field"><span>{t('settings.notes')}</span><textarea name="resolution_notes" required rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} /></label>
          <button className="btn primary" type="submit" disabled={!notes.trim() || patch.isPending}>{t('settings.resolve')}</button>
        </form>
      )}
      {room.status === 'resolved' && justResolved && onReport && (
        <div className="notice ok report-prompt" role="status" data-testid="resolved-report-prompt">
          <span>{t('reports.resolvedPrompt')}</span>
          <button className="btn primary small" onClick={onReport}>📄 {t('reports.generate')}</button>
        </div>
      )}
      {room.status === 'resolved' && (
        <div className="actions start">
          {canEdit && <button className="btn" onClick={() => patch.mutate({ status: 'active' })}>{t('settings.reopen')}</button>}
          {isOwner && <button className="btn danger" onClick={() => confirm(t('settings.confirmArchive')) && patch.mutate({ status: 'archived' })}>{t('settings.archive')}</button>}
        </div>
      )}
      {room.status === 'archived' && <p className="muted">{t('composer.archived')}</p>}

      {isOwner && room.status !== 'archived' && (
        <>
          <h3>{t('settings.transfer')}</h3>
          <form className="inline-add" onSubmit={(e) => { e.preventDefault(); if (newOwner) transfer.mutate(newOwner); }}>
            <select aria-label={t('settings.transferTo')} value={newOwner} onChange={(e) => setNewOwner(e.target.value)}>
              <option value="">{t('settings.transferTo')}…</option>
              {members.data?.members.filter((m) => m.role !== 'owner' && !m.pending).map((m) => (
                <option key={m.user_id} value={m.user_id}>{m.display_name ?? m.user_id} ({t(`role.${m.role}`)})</option>
              ))}
            </select>
            <button className="btn" type="submit" disabled={!newOwner || transfer.isPending}>{t('settings.transferBtn')}</button>
          </form>
        </>
      )}
      {isAdmin && <DangerZone room={room} />}
    </section>
  );
}

function fields(r: Room) {
  return {
    title: r.title,
    incident_type: r.incident_type,
    severity: r.severity,
    location: r.location ?? '',
    line: r.line ?? '',
    equipment: r.equipment ?? '',
    description: r.description ?? '',
    lots: r.lots,
  };
}
