// The bell in the top bar: the unread count (from REST at each connect, then live
// from `notification` frames), the newest notifications, and the user's settings
// for which kinds ring and when not to.

import { useCallback, useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError } from '../api/http';
import { formatTime, useLang, useT } from '../i18n';
import type { Notification, NotificationKind } from '../protocol/generated';
import { askPermission, blocked, canAsk } from '../ring';
import { useLive } from '../stores/live';
import { notificationText, useNotifications } from '../stores/notifications';
import { useDismiss } from './useDismiss';

interface InboxPage {
  notifications: Notification[];
  unread: number;
}

const KINDS: NotificationKind[] = ['added', 'routed', 'escalated', 'mentioned'];

export function NotificationBell() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const { items, unread } = useNotifications();
  const connection = useLive((s) => s.connection);
  const [open, setOpen] = useState(false);
  const [, setAsked] = useState(0);
  const navigate = useNavigate();
  const box = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);

  // At every (re)connect: what arrived while the socket was away.
  useEffect(() => {
    if (connection !== 'online') return;
    api<InboxPage>('GET', '/api/notifications?limit=20')
      .then((r) => useNotifications.getState().load(r.notifications, r.unread))
      .catch(() => {});
  }, [connection]);

  useDismiss(box, open, close);

  const markRead = async (ids: string[] | null) => {
    try {
      const r = await api<{ unread: number }>('POST', '/api/notifications/read', ids ? { ids } : { all: true });
      useNotifications.getState().read(ids, r.unread);
    } catch {
      /* stays unread; the next load shows the truth */
    }
  };
  const openOne = (n: Notification) => {
    setOpen(false);
    if (!n.read_at) void markRead([n.id]);
    navigate(`/rooms/${n.room_id}`);
  };

  return (
    <div className="bell" ref={box}>
      <button
        className="btn ghost bell-button"
        data-testid="bell"
        aria-expanded={open}
        aria-label={unread ? t('notif.unread', { n: unread }) : t('notif.bell')}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden>🔔</span>
        {unread > 0 && <span className="bell-count" data-testid="bell-count">{unread > 99 ? '99+' : unread}</span>}
      </button>
      {open && (
        <div className="bell-panel" role="dialog" aria-label={t('notif.title')} data-testid="bell-panel">
          <div className="bell-head">
            <strong>{t('notif.title')}</strong>
            <button className="btn small ghost" disabled={!unread} onClick={() => void markRead(null)} data-testid="mark-all-read">
              {t('notif.markAll')}
            </button>
          </div>
          {canAsk() && (
            <button className="btn small wide" onClick={() => void askPermission().then(() => setAsked((n) => n + 1))}>
              {t('notif.enableDesktop')}
            </button>
          )}
          {blocked() && <p className="muted">{t('notif.desktopBlocked')}</p>}
          <ul className="bell-list">
            {items.length === 0 && <li className="muted bell-empty">{t('notif.empty')}</li>}
            {items.map((n) => (
              <li key={n.id}>
                <button className={`bell-item${n.read_at ? '' : ' is-unread'}`} onClick={() => openOne(n)} data-testid="notification">
                  <span>{notificationText(lang, n)}</span>
                  <time className="muted" dateTime={n.created_at}>{formatTime(n.created_at, lang)}</time>
                </button>
              </li>
            ))}
          </ul>
          <details className="bell-settings">
            <summary>{t('notif.settings')}</summary>
            <RingSettings />
          </details>
        </div>
      )}
    </div>
  );
}

interface Settings {
  ring: Record<NotificationKind, boolean>;
  quiet_hours: { start: string; end: string } | null;
}

/** Which kinds ring, and quiet hours (`GET`/`PUT /api/me/settings`). */
function RingSettings() {
  const t = useT();
  const [s, setS] = useState<Settings | null>(null);
  const [quiet, setQuiet] = useState({ on: false, start: '22:00', end: '06:00' });
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    api<Settings>('GET', '/api/me/settings')
      .then((got) => {
        setS(got);
        if (got.quiet_hours) setQuiet({ on: true, ...got.quiet_hours });
      })
      .catch((e) => setStatus(e instanceof ApiError ? e.message : String(e)));
  }, []);
  if (!s) return status ? <p className="notice error">{status}</p> : null;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const body: Settings = { ring: s.ring, quiet_hours: quiet.on ? { start: quiet.start, end: quiet.end } : null };
    try {
      setS(await api<Settings>('PUT', '/api/me/settings', body));
      setStatus(t('notif.saved'));
    } catch (err) {
      setStatus(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <form onSubmit={save} data-testid="ring-settings">
      <fieldset>
        <legend className="muted">{t('notif.ringTitle')}</legend>
        {KINDS.map((k) => (
          <label key={k} className="check">
            <input
              type="checkbox"
              name={`ring-${k}`}
              checked={s.ring[k]}
              onChange={(e) => setS({ ...s, ring: { ...s.ring, [k]: e.target.checked } })}
            />
            {t(`notif.kind.${k}`)}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" name="quiet" checked={quiet.on} onChange={(e) => setQuiet({ ...quiet, on: e.target.checked })} />
        {t('notif.quiet')}
      </label>
      {quiet.on && (
        <div className="row2">
          <label className="field">
            <span>{t('notif.quietFrom')}</span>
            <input type="time" name="quiet-start" required value={quiet.start} onChange={(e) => setQuiet({ ...quiet, start: e.target.value })} />
          </label>
          <label className="field">
            <span>{t('notif.quietTo')}</span>
            <input type="time" name="quiet-end" required value={quiet.end} onChange={(e) => setQuiet({ ...quiet, end: e.target.value })} />
          </label>
        </div>
      )}
      <div className="actions">
        {status && <span className="muted" role="status">{status}</span>}
        <button className="btn small primary" type="submit">{t('notif.save')}</button>
      </div>
    </form>
  );
}
