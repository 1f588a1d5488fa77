import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, ApiError } from '../api/http';
import type { MessagePage, Room } from '../api/types';
import { SeverityBadge, StatusBadge, TypeLabel, RoleBadge } from '../components/Badges';
import { Composer, TypingIndicator } from '../components/Composer';
import { DangerZone } from '../components/DeleteRoomDialog';
import { FilesPanel } from '../components/FilesPanel';
import type { Focus } from '../components/HistoryWindow';
import { MembersPanel } from '../components/MembersPanel';
import { MessageList } from '../components/MessageList';
import { PinsPanel } from '../components/PinsPanel';
import { AlarmBar, Milestones } from '../components/Milestones';
import { ReportsPanel, useReports } from '../components/ReportsPanel';
import { MessageSearch } from '../components/SearchHits';
import { SettingsPanel } from '../components/SettingsPanel';
import { UploadTray, useUploadQueue } from '../components/UploadTray';
import { getClient } from '../connection';
import { useT } from '../i18n';
import { useLive } from '../stores/live';
import { reportNotices } from '../stores/timeline';
import { useSession } from '../stores/session';

type Panel = 'members' | 'files' | 'pins' | 'reports' | 'settings' | 'search' | null;

export function RoomPage() {
  const { roomId = '' } = useParams();
  const t = useT();
  const qc = useQueryClient();
  const user = useSession((s) => s.user)!;
  const [params, setParams] = useSearchParams();
  const panel = (params.get('panel') as Panel) ?? null;
  const setPanel = (p: Panel) => {
    const next = new URLSearchParams(params);
    if (p && p !== panel) next.set('panel', p);
    else next.delete('panel');
    next.delete('report');
    setParams(next, { replace: true });
  };
  const room = useQuery({ queryKey: ['room', roomId], queryFn: () => api<Room>('GET', `/api/rooms/${roomId}`) });
  const r = room.data;
  const isMember = !!r?.my_role;
  const role = r?.my_role ?? null;
  const isAdmin = user.is_admin;
  const canWrite = role === 'owner' || role === 'editor' || isAdmin;
  const isOwner = role === 'owner' || isAdmin;
  const uploads = useUploadQueue(roomId);
  const [dragging, setDragging] = useState(false);
  const typing = useLive((s) => s.typing[roomId]);
  const live = useLive((s) => !!s.subscribed[roomId]);
  const loaded = useLive((s) => !!s.timelines[roomId]);
  const reports = useReports(roomId, isMember);
  // The message to show (a search hit): `?at=<seq>` when the room is opened.
  const [focus, setFocus] = useState<Focus | null>(null);
  const [jumpError, setJumpError] = useState<string | null>(null);

  // Load the latest page, then follow the room from the head seen before the load:
  // replayed events that the page already holds are merged by id.
  useEffect(() => {
    if (!isMember) return;
    let cancelled = false;
    (async () => {
      try {
        const fresh = await api<Room>('GET', `/api/rooms/${roomId}`);
        const at = Number(params.get('at'));
        const around = Number.isSafeInteger(at) && at > 0;
        const page = await api<MessagePage>('GET', `/api/rooms/${roomId}/messages?limit=50${around ? `&around_seq=${at}` : ''}`);
        if (cancelled) return;
        qc.setQueryData(['room', roomId], fresh);
        useLive.getState().resetRoom(roomId);
        if (around) {
          useLive.getState().loadWindow(roomId, page.messages, page.has_older ?? page.has_more, page.has_newer ?? false, page.events);
          setFocus((f) => ({ seq: at, n: (f?.n ?? 0) + 1 }));
        } else {
          useLive.getState().loadPage(roomId, page.messages, page.has_more, page.events);
        }
        getClient()?.subscribe(roomId, fresh.head_seq);
        void qc.invalidateQueries({ queryKey: ['rooms'] });
      } catch {
        /* the room query shows the error */
      }
    })();
    return () => {
      cancelled = true;
      getClient()?.unsubscribe(roomId);
      useLive.getState().setSubscribed(roomId, false);
    };
  }, [roomId, isMember]); // eslint-disable-line react-hooks/exhaustive-deps

  // Completed reports are lines of the timeline; those before the page's load come
  // from the report list (newer ones from their `report.created` events too).
  useEffect(() => {
    if (loaded && reports.data) useLive.getState().loadNotices(roomId, reportNotices(reports.data.reports));
  }, [roomId, loaded, reports.data]);

  // Typing indicators run out expires_in_ms after the last frame.
  useEffect(() => {
    if (!typing || !Object.keys(typing).length) return;
    const id = setInterval(() => useLive.getState().prune(), 250);
    return () => clearInterval(id);
  }, [typing]);

  // Shows a search hit: from the loaded messages when it is there, otherwise from a
  // page of history around it.
  const jumpTo = async (seq: number) => {
    setJumpError(null);
    if (window.matchMedia?.('(max-width: 1000px)').matches) setPanel(null);
    const tl = useLive.getState().timelines[roomId];
    if (!tl?.messages.some((m) => m.seq === seq)) {
      try {
        const page = await api<MessagePage>('GET', `/api/rooms/${roomId}/messages?around_seq=${seq}&limit=50`);
        useLive.getState().loadWindow(roomId, page.messages, page.has_older ?? page.has_more, page.has_newer ?? false, page.events);
      } catch (e) {
        setJumpError(t('room.jumpFailed', { msg: e instanceof Error ? e.message : String(e) }));
        return;
      }
    }
    setFocus((f) => ({ seq, n: (f?.n ?? 0) + 1 }));
  };

  const join = useMutation({
    mutationFn: () => api<Room>('POST', `/api/rooms/${roomId}/join`),
    onSuccess: (room) => qc.setQueryData(['room', roomId], room),
  });

  const onFiles = (files: File[]) => uploads.add(files);

  if (room.error) {
    const e = room.error as ApiError;
    return (
      <div className="empty-state">
        <h1>{e.status === 404 ? t('notFound.title') : e.message}</h1>
        <Link className="btn" to="/">{t('notFound.back')}</Link>
      </div>
    );
  }
  if (!r) return <p className="muted page">{t('rooms.loading')}</p>;

  const archived = r.status === 'archived';
  const droppable = canWrite && !archived;
  return (
    <div className={`room-page ${panel ? 'with-panel' : ''}`}>
      <div
        className={`room-main ${dragging ? 'dragging' : ''}`}
        onDragOver={(e) => { if (droppable && e.dataTransfer.types.includes('Files')) { e.preventDefault(); setDragging(true); } }}
        onDragLeave={(e) => { if (e.currentTarget === e.target) setDragging(false); }}
        onDrop={(e) => { if (!droppable) return; e.preventDefault(); setDragging(false); onFiles([...e.dataTransfer.files]); }}
        data-testid="room-main"
        data-live={live}
      >
        <nav className="breadcrumbs" aria-label="breadcrumbs">
          <Link to="/">{t('room.back')}</Link> <span aria-hidden>›</span> <span aria-current="page">{r.title}</span>
        </nav>
        <AlarmBar room={r} />
        <header className="room-head">
          <div className="room-title">
            <h1>{r.title}</h1>
            <div className="room-card-meta">
              <StatusBadge status={r.status} />
              <SeverityBadge severity={r.severity} />
              <TypeLabel type={r.incident_type} />
              {role && <RoleBadge role={role} />}
              {[r.location, r.line, r.equipment].filter(Boolean).map((x) => <span key={x} className="chip">{x}</span>)}
              {r.lots.map((l) => <span key={l} className="chip lot">LOT {l}</span>)}
            </div>
            <Milestones room={r} canAct={canWrite} />
          </div>
          {isMember && (
            <div className="room-tabs" role="tablist">
              {(['members', 'files', 'pins', 'reports', 'settings'] as const).map((p) => (
                <button key={p} role="tab" aria-selected={panel === p} className={`btn ghost ${panel === p ? 'active' : ''}`} onClick={() => setPanel(p)} data-testid={`tab-${p}`}>
                  {p === 'pins' ? t('pins.title') : t(`room.${p}`)}{p === 'members' ? ` · ${r.member_count}` : ''}
                </button>
              ))}
              <button role="tab" aria-selected={panel === 'search'} className={`btn ghost tab-icon ${panel === 'search' ? 'active' : ''}`} onClick={() => setPanel('search')}
                data-testid="tab-search" aria-label={t('room.search')} title={t('room.search')}>
                <span aria-hidden>🔍</span>
              </button>
            </div>
          )}
        </header>
        {!isMember ? (
          <div className="empty-state">
            <p>{t('room.notMember')}</p>
            <p className="muted">{t('room.joinToRead')}</p>
            {!archived && <button className="btn primary" onClick={() => join.mutate()} disabled={join.isPending}>{t('rooms.join')}</button>}
            {join.error && <div className="notice error">{(join.error as ApiError).message}</div>}
            {isAdmin && <DangerZone room={r} />}
          </div>
        ) : (
          <>
            {r.description && <details className="room-desc"><summary>{t('create.description')}</summary><p>{r.description}</p></details>}
            {jumpError && <div className="notice error" role="alert">{jumpError}</div>}
            <MessageList room={r} me={user.id} canWrite={canWrite} isOwner={isOwner} focus={focus} />
            <TypingIndicator roomId={r.id} />
            <UploadTray queue={uploads} />
            {archived ? (
              <div className="composer-blocked" role="note">{t('composer.archived')}</div>
            ) : !canWrite ? (
              <div className="composer-blocked" role="note" data-testid="viewer-note">{t('composer.viewer')}</div>
            ) : (
              <Composer room={r} onFiles={onFiles} />
            )}
            {dragging && <div className="drop-overlay" aria-hidden>{t('composer.drop')}</div>}
          </>
        )}
      </div>
      {isMember && panel && (
        <aside className="room-side">
          <button className="btn ghost side-close" onClick={() => setPanel(null)} aria-label={t('close')}>✕ {t('room.chat')}</button>
          {panel === 'members' && <MembersPanel room={r} me={user.id} role={role} isAdmin={isAdmin} />}
          {panel === 'files' && <FilesPanel room={r} me={user.id} canWrite={canWrite} isOwner={isOwner} />}
          {panel === 'pins' && <PinsPanel room={r} canWrite={canWrite} />}
          {panel === 'reports' && <ReportsPanel room={r} canGenerate={canWrite} initial={params.get('report')} />}
          {panel === 'search' && (
            <section className="room-search">
              <h2>{t('room.search')}</h2>
              <MessageSearch roomId={r.id} placeholder={t('search.roomPlaceholder')} autoFocus onOpen={(h) => void jumpTo(h.seq)} />
            </section>
          )}
          {panel === 'settings' && <SettingsPanel room={r} role={role} isAdmin={isAdmin} onReport={() => setPanel('reports')} />}
        </aside>
      )}
    </div>
  );
}
