import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES, STATUSES, type Room, type RoomPage } from '../api/types';
import { SeverityBadge, StatusBadge, TypeLabel, RoleBadge } from '../components/Badges';
import { CreateRoomDialog } from '../components/CreateRoomDialog';
import { formatTime, useLang, useT } from '../i18n';
import { alarming } from '../stores/milestones';
import { roomPath } from '../stores/split';

const PAGE_SIZE = 20;

/**
 * The room list: a page of its own, or (`compact`) the column beside the open room
 * in the desktop split view, where `activeId` is the room shown.
 */
export function RoomListPage({ compact = false, activeId = null }: { compact?: boolean; activeId?: string | null } = {}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const [search, setSearch] = useState(params.get('q') ?? '');
  const nav = useNavigate();
  const qc = useQueryClient();
  const page = Number(params.get('page') ?? '1') || 1;
  const filters = {
    status: params.get('status') ?? '',
    incident_type: params.get('incident_type') ?? '',
    severity: params.get('severity') ?? '',
    mine: params.get('mine') === 'true',
    q: params.get('q') ?? '',
  };
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== 'page') next.delete('page');
    setParams(next, { replace: true });
  };
  // Search as you type, without a request per key. The pending search is
  // dropped when a join leaves the page: applied after the navigation, it would
  // bring the user back to the list.
  const pendingSearch = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    pendingSearch.current = setTimeout(() => { if (search !== filters.q) set('q', search.trim()); }, 300);
    return () => clearTimeout(pendingSearch.current);
  }, [search]); // eslint-disable-line react-hooks/exhaustive-deps

  const qs = new URLSearchParams();
  if (filters.status) qs.set('status', filters.status);
  if (filters.incident_type) qs.set('incident_type', filters.incident_type);
  if (filters.severity) qs.set('severity', filters.severity);
  if (filters.mine) qs.set('mine', 'true');
  if (filters.q) qs.set('q', filters.q);
  qs.set('page', String(page));
  qs.set('page_size', String(PAGE_SIZE));
  const rooms = useQuery({
    queryKey: ['rooms', qs.toString()],
    queryFn: () => api<RoomPage>('GET', `/api/rooms?${qs}`),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const join = useMutation({
    mutationFn: (id: string) => api<Room>('POST', `/api/rooms/${id}/join`),
    onSuccess: (room) => {
      clearTimeout(pendingSearch.current);
      qc.setQueryData(['room', room.id], room);
      void qc.invalidateQueries({ queryKey: ['rooms'] });
      nav(roomPath(room.id, params));
    },
  });
  const pages = rooms.data ? Math.max(1, Math.ceil(rooms.data.total / rooms.data.page_size)) : 1;

  return (
    <div className={`page rooms-page${compact ? ' compact' : ''}`}>
      <div className="page-head">
        {compact ? <h2>{t('rooms.title')}</h2> : <h1>{t('rooms.title')}</h1>}
        <button className="btn primary" onClick={() => setCreating(true)} data-testid="new-room">＋ {t('rooms.new')}</button>
      </div>
      <div className="filters" role="search">
        <input className="search" type="search" aria-label={t('rooms.search')} placeholder={t('rooms.search')} value={search} onChange={(e) => setSearch(e.target.value)} />
        <select aria-label={t('rooms.status')} value={filters.status} onChange={(e) => set('status', e.target.value)}>
          <option value="">{t('rooms.status')}: {t('rooms.all')}</option>
          {STATUSES.map((s) => <option key={s} value={s}>{t(`status.${s}`)}</option>)}
        </select>
        <select aria-label={t('rooms.type')} value={filters.incident_type} onChange={(e) => set('incident_type', e.target.value)}>
          <option value="">{t('rooms.type')}: {t('rooms.all')}</option>
          {INCIDENT_TYPES.map((s) => <option key={s} value={s}>{t(`type.${s}`)}</option>)}
        </select>
        <select aria-label={t('rooms.severity')} value={filters.severity} onChange={(e) => set('severity', e.target.value)}>
          <option value="">{t('rooms.severity')}: {t('rooms.all')}</option>
          {SEVERITIES.map((s) => <option key={s} value={s}>{t(`sev.${s}`)}</option>)}
        </select>
        <label className="check">
          <input type="checkbox" checked={filters.mine} onChange={(e) => set('mine', e.target.checked ? 'true' : '')} />
          <span>{t('rooms.mine')}</span>
        </label>
      </div>
      {rooms.error && <div className="notice error" role="alert">{(rooms.error as ApiError).message}</div>}
      {join.error && <div className="notice error" role="alert">{(join.error as ApiError).message}</div>}
      {!rooms.data && rooms.isLoading && <p className="muted">{t('rooms.loading')}</p>}
      {rooms.data && rooms.data.rooms.length === 0 && <div className="empty-state"><p>{t('rooms.empty')}</p></div>}
      <ul className="room-list" data-testid="room-list">
        {compact && rooms.data?.rooms.map((r) => (
          <CompactRoomCard key={r.id} room={r} to={roomPath(r.id, params)} active={r.id === activeId}
            joining={join.isPending} onJoin={() => join.mutate(r.id)} />
        ))}
        {!compact && rooms.data?.rooms.map((r) => (
          <li key={r.id} className={`room-card sev-edge-${r.severity} ${alarming(r) ? 'alarm' : ''}`} data-testid="room-card" data-alarm={alarming(r)}>
            <div className="room-card-main">
              <div className="room-card-title">
                {r.is_member ? <Link to={roomPath(r.id, params)}>{r.title}</Link> : <span>{r.title}</span>}
                {r.unread > 0 && <span className="unread" aria-label={t('rooms.unread', { n: r.unread })}>{r.unread}</span>}
                {r.mentions > 0 && <span className="mention-badge" data-testid="mention-badge" aria-label={t('rooms.mentions', { n: r.mentions })}>@{r.mentions}</span>}
              </div>
              <div className="room-card-meta">
                <StatusBadge status={r.status} />
                <SeverityBadge severity={r.severity} />
                <TypeLabel type={r.incident_type} />
                {r.my_role && <RoleBadge role={r.my_role} />}
                {[r.location, r.line, r.equipment].filter(Boolean).map((x) => <span key={x} className="chip">{x}</span>)}
              </div>
              <div className="room-card-foot muted">
                <span>{t('rooms.members', { n: r.member_count })}</span>
                <span>{t('rooms.lastActivity')}: <time dateTime={r.last_activity_at}>{formatTime(r.last_activity_at, lang)}</time></span>
                {r.lots.length > 0 && <span>LOT {r.lots.slice(0, 3).join(', ')}{r.lots.length > 3 ? '…' : ''}</span>}
              </div>
            </div>
            <div className="room-card-actions">
              {r.is_member ? (
                <Link className="btn" to={roomPath(r.id, params)}>{t('rooms.open')}</Link>
              ) : (
                <button className="btn" disabled={join.isPending} onClick={() => join.mutate(r.id)}>{t('rooms.join')}</button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {rooms.data && rooms.data.total > 0 && (
        <nav className="pager" aria-label="pagination">
          <button className="btn ghost" disabled={page <= 1} onClick={() => set('page', String(page - 1))}>{t('rooms.prev')}</button>
          <span>{t('rooms.page', { p: page, n: pages, t: rooms.data.total })}</span>
          <button className="btn ghost" disabled={page >= pages} onClick={() => set('page', String(page + 1))}>{t('rooms.next')}</button>
        </nav>
      )}
      <CreateRoomDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

/** A room in the split view's list: title, severity and status; the open one is marked. */
function CompactRoomCard({ room: r, to, active, joining, onJoin }: {
  room: Room; to: string; active: boolean; joining: boolean; onJoin: () => void;
}) {
  const t = useT();
  return (
    <li className={`room-card compact sev-edge-${r.severity} ${alarming(r) ? 'alarm' : ''} ${active ? 'active' : ''}`}
      data-testid="split-room" data-alarm={alarming(r)} data-active={active}>
      <div className="room-card-main">
        <div className="room-card-title">
          {r.is_member
            ? <Link to={to} aria-current={active ? 'page' : undefined}>{r.title}</Link>
            : <span>{r.title}</span>}
          {r.unread > 0 && <span className="unread" aria-label={t('rooms.unread', { n: r.unread })}>{r.unread}</span>}
        </div>
        <div className="room-card-meta">
          <span className={`badge status-${r.status}`}>{t(`status.${r.status}`)}</span>
          <span className={`badge sev-${r.severity}`}>{t(`sev.${r.severity}`)}</span>
          {[r.line, r.equipment].filter(Boolean).map((x) => <span key={x} className="chip">{x}</span>)}
        </div>
      </div>
      {!r.is_member && <button className="btn small" disabled={joining} onClick={onJoin}>{t('rooms.join')}</button>}
    </li>
  );
}
