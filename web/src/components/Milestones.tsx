import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../api/http';
import type { Room } from '../api/types';
import { formatTime, useLang, useT } from '../i18n';
import { alarming, elapsedParts, milestones } from '../stores/milestones';

/** A pulsing bar in the severity's colour while nobody has taken the room on. */
export function AlarmBar({ room }: { room: Room }) {
  const t = useT();
  if (!alarming(room)) return null;
  return <div className={`alarm-bar sev-${room.severity}`} role="status" data-testid="alarm">{t('milestone.alarm')}</div>;
}

/**
 * The room's milestones with the time each took from detection, and the buttons
 * that declare the next ones (editors, owners and admins, while the room is active).
 * The room comes back from the answer, and to everyone else as an event.
 */
export function Milestones({ room, canAct }: { room: Room; canAct: boolean }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const declare = useMutation({
    mutationFn: (milestone: 'acknowledge' | 'contain') => api<Room>('POST', `/api/rooms/${room.id}/${milestone}`),
    onSuccess: (r) => {
      qc.setQueryData(['room', room.id], r);
      void qc.invalidateQueries({ queryKey: ['rooms'] });
    },
  });
  const elapsed = (ms: number) => elapsedParts(ms).map(([n, unit]) => t(`elapsed.${unit}`, { n })).join(' ');
  const by = { acknowledged: room.acknowledged_by, contained: room.contained_by } as Record<string, string | null>;
  const open = canAct && room.status === 'active';
  return (
    <div className="milestones">
      <ol className="milestone-steps" aria-label={t('milestone.list')} data-testid="milestones">
        {milestones(room).map((m) => (
          <li key={m.key} className={m.at ? 'reached' : 'pending'} data-testid={`milestone-${m.key}`} data-reached={!!m.at}>
            <span className="milestone-name">{t(`milestone.${m.key}`)}</span>
            {m.at && m.elapsedMs !== null ? (
              <time dateTime={m.at} title={[formatTime(m.at, lang, 'full'), by[m.key]].filter(Boolean).join(' · ')}>
                {m.key === 'detected' ? formatTime(m.at, lang) : t('milestone.after', { d: elapsed(m.elapsedMs) })}
              </time>
            ) : (
              <span className="muted" aria-hidden>—</span>
            )}
          </li>
        ))}
      </ol>
      {open && (!room.acknowledged_at || !room.contained_at) && (
        <div className="milestone-actions">
          {!room.acknowledged_at && (
            <button className="btn primary" data-testid="acknowledge" disabled={declare.isPending} onClick={() => declare.mutate('acknowledge')}>
              {t('milestone.acknowledge')}
            </button>
          )}
          {!room.contained_at && (
            <button className="btn" data-testid="contain" disabled={declare.isPending} onClick={() => declare.mutate('contain')}>
              {t('milestone.contain')}
            </button>
          )}
        </div>
      )}
      {declare.error && <div className="notice error" role="alert">{(declare.error as ApiError).message}</div>}
    </div>
  );
}
