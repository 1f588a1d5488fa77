import { Fragment, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, ApiError } from '../api/http';
import type { FileMeta, Message, Room, RoomEvent } from '../api/types';
import { getClient } from '../connection';
import { formatBytes, formatTime, useLang, useT, type Key, type Lang } from '../i18n';
import { ProtocolRequestError } from '../protocol/client';
import { useLive } from '../stores/live';
import { systemLineText } from '../stores/systemLines';
import { canEdit, emptyTimeline, timelineItems, type Notice } from '../stores/timeline';
import { AuthImage, download } from './AuthImage';
import { EditHistoryDialog } from './EditHistoryDialog';
import { NewerEdge, useHistoryWindow, type Focus } from './HistoryWindow';
import { Lightbox } from './Lightbox';
import { downloadReport, useMemberName } from './ReportsPanel';
import { MessageText } from './Mentions';
import { SeenBy, UnreadDivider, useOpenedAt } from './ReadMarkers';
import { dividerBefore, latestOwn, mentionsMe, mentionsOf } from '../mentions';

const EMOJIS = ['👍', '✅', '👀', '⚠️', '🔧', '🙏'];

export function errorText(t: ReturnType<typeof useT>, e: unknown): string {
  const code = e instanceof ProtocolRequestError || e instanceof ApiError ? e.code : '';
  if (code === 'forbidden' || code === 'edit_window_passed' || code === 'offline' || code === 'message_deleted' || code === 'pin_limit_reached') {
    return t(`err.${code}` as Key);
  }
  if (code === 'disconnected' || code === 'timeout') return t('err.offline');
  return t('err.generic', { msg: e instanceof Error ? e.message : String(e) });
}

export function MessageList({ room, me, canWrite, isOwner, focus }: { room: Room; me: string; canWrite: boolean; isOwner: boolean; focus?: Focus | null }) {
  const t = useT();
  const tl = useLive((s) => s.timelines[room.id]) ?? emptyTimeline;
  const outbox = useLive((s) => s.outbox);
  const failures = useLive((s) => s.failures);
  const scroller = useRef<HTMLDivElement>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [lightbox, setLightbox] = useState<FileMeta | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [stuck, setStuck] = useState(true);
  const prevHeight = useRef<number | null>(null);
  const [historyOf, setHistoryOf] = useState<string | null>(null);
  const win = useHistoryWindow(room.id, tl, scroller, focus, (e) => setFlash(errorText(t, e)), setStuck);

  const knownClientIds = new Set(tl.messages.map((m) => m.client_id).filter(Boolean));
  const pending = outbox.filter((o) => o.room_id === room.id && !knownClientIds.has(o.client_id));
  const failed = failures.filter((f) => f.item.room_id === room.id);
  const last = tl.messages[tl.messages.length - 1];
  const items = timelineItems(tl);
  // Where I left off when I opened the room, and my latest message (seen by).
  const opened = useOpenedAt(room.id, me);
  const subscribed = useLive((s) => !!s.subscribed[room.id]);
  const divider = dividerBefore(tl.messages.filter((m) => m.seq <= (opened?.head ?? 0)), opened?.lastRead ?? null, me);
  const own = latestOwn(tl.messages, me);

  // Keep the view pinned to the bottom while the user is there; keep the position
  // when older history is prepended above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prevHeight.current !== null) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
      prevHeight.current = null;
    } else if (stuck && !tl.hasNewer) {
      el.scrollTop = el.scrollHeight;
    }
  }, [items.length, pending.length, failed.length, last?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  // Read marker: everything visible at the bottom counts as read.
  useEffect(() => {
    const c = getClient();
    // Not before the marker at opening is known (the unread divider starts there),
    // nor before the subscription (the others see the marker move through it), nor
    // while a window into older history is shown (the latest messages are not seen).
    if (!c || !last || !stuck || document.hidden || opened === undefined || !subscribed || tl.hasNewer) return;
    const seq = Math.max(last.seq, c.lastSeq(room.id) ?? 0);
    c.read(room.id, seq);
  }, [last?.seq, stuck, room.id, opened === undefined, subscribed, tl.hasNewer]); // eslint-disable-line react-hooks/exhaustive-deps

  const loadOlder = async () => {
    if (loadingOlder || !tl.hasOlder || !tl.messages.length) return;
    setLoadingOlder(true);
    try {
      const first = tl.messages[0].seq;
      const page = await api<{ messages: Message[]; has_more: boolean; events?: RoomEvent[] }>('GET', `/api/rooms/${room.id}/messages?before_seq=${first}&limit=50`);
      prevHeight.current = scroller.current?.scrollHeight ?? null;
      useLive.getState().loadPage(room.id, page.messages, page.has_more, page.events);
    } catch (e) {
      setFlash(errorText(t, e));
    } finally {
      setLoadingOlder(false);
    }
  };

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    setStuck(el.scrollHeight - el.scrollTop - el.clientHeight < 60);
    if (el.scrollTop < 120) void loadOlder();
    if (tl.hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < 120) void win.loadNewer();
  };

  const act = (p: Promise<unknown>) => p.catch((e) => setFlash(errorText(t, e)));

  return (
    <div className="messages-wrap">
      <div className="messages" ref={scroller} onScroll={onScroll} data-testid="messages" role="log" aria-live="polite">
        <div className="history-edge">
          {tl.hasOlder ? (
            <button className="btn ghost small" onClick={() => void loadOlder()} disabled={loadingOlder}>{t('room.loadOlder')}</button>
          ) : (
            <span className="muted">{t('room.beginning')}</span>
          )}
        </div>
        {items.map((item, i) => {
          if (item.type === 'notice') {
            const n = item.notice;
            if (n.kind === 'report') return <ReportNotice key={`n-${n.id}`} notice={n} roomId={room.id} />;
            if (n.kind === 'escalated') return <EscalatedNotice key={`n-${n.id}`} notice={n} roomId={room.id} />;
            return <SystemLine key={`n-${n.id}`} notice={n} roomId={room.id} />;
          }
          const before = items[i - 1];
          return (
            <Fragment key={item.message.id}>
            {item.message.id === divider && <UnreadDivider />}
            <MessageItem
              m={item.message}
              prev={before?.type === 'message' ? before.message : undefined}
              me={me}
              room={room}
              canWrite={canWrite}
              isOwner={isOwner}
              onOpen={setLightbox}
              onHistory={setHistoryOf}
              act={act}
            />
            {item.message.id === own?.id && <SeenBy m={item.message} roomId={room.id} me={me} />}
            </Fragment>
          );
        })}
        {tl.hasNewer && <NewerEdge loading={win.loadingNewer} onLoad={() => void win.loadNewer()} />}
        {pending.map((p) => (
          <div key={p.client_id} className="msg mine pending" data-testid="pending-message">
            <div className="msg-body">
              <div className="msg-text">{p.content}</div>
              <div className="msg-status muted">⏳ {t('msg.pending')}</div>
            </div>
          </div>
        ))}
        {failed.map((f) => (
          <div key={f.item.client_id} className="msg mine failed" role="alert">
            <div className="msg-body">
              <div className="msg-text">{f.item.content}</div>
              <div className="msg-status error">
                {t('msg.failed', { msg: f.code === 'forbidden' ? t('err.forbidden') : f.message })}
                <button className="btn small ghost" onClick={() => useLive.getState().dismissFailure(f.item.client_id)}>{t('msg.dismiss')}</button>
              </div>
            </div>
          </div>
        ))}
      </div>
      {tl.hasNewer ? (
        <button className="btn jump" onClick={() => void win.jumpLatest()} data-testid="jump-latest">{t('room.jumpLatest')}</button>
      ) : !stuck && (
        <button className="btn jump" onClick={() => { const el = scroller.current; if (el) el.scrollTop = el.scrollHeight; setStuck(true); }}>
          {t('room.newMessages')}
        </button>
      )}
      {flash && (
        <div className="toast error" role="alert" onClick={() => setFlash(null)}>
          {flash} <button className="btn small ghost" aria-label={t('close')}>✕</button>
        </div>
      )}
      <Lightbox file={lightbox} onClose={() => setLightbox(null)} />
      <EditHistoryDialog roomId={room.id} messageId={historyOf} onClose={() => setHistoryOf(null)} />
    </div>
  );
}

const paren = (lang: Lang, s: string) => (lang === 'en' ? ` (${s})` : `（${s}）`);

/**
 * Scrolls the conversation to a message, if it is loaded, and flashes it; false
 * when it is not.
 */
export function scrollToMessage(id: string): boolean {
  const el = document.querySelector<HTMLElement>(`[data-testid="message"][data-id="${CSS.escape(id)}"]`);
  if (!el) return false;
  el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  el.classList.remove('flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('flash');
  return true;
}

/** A room event that is not a message, as a compact line in its place (systemLines.ts). */
function SystemLine({ notice, roomId }: { notice: Extract<Notice, { kind: 'event' }>; roomId: string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const nameOf = useMemberName(roomId);
  const senders = useLive((s) => s.timelines[roomId]?.messages);
  // Members by their display name; people who have left, by the name they wrote under.
  const name = (id: string) => {
    const n = nameOf(id);
    return n !== id ? n : senders?.find((m) => m.sender === id)?.sender_name ?? id;
  };
  const e = notice.event;
  const text = systemLineText(e, t, name);
  const target = (e.kind === 'message.pinned' || e.kind === 'message.unpinned') && !e.data?.deleted ? String(e.data?.message_id ?? '') : '';
  return (
    <div className="msg-system system-line muted" data-testid="system-line" data-kind={e.kind} data-seq={notice.seq ?? undefined}>
      {target ? (
        <button className="linkish" onClick={() => scrollToMessage(target)}>{kindIcon(e.kind)} {text}</button>
      ) : (
        <span>{kindIcon(e.kind)} {text}</span>
      )} · {formatTime(notice.at, lang)}
    </div>
  );
}

function kindIcon(kind: string): string {
  if (kind.startsWith('member.') || kind === 'ownership.transferred') return '👤';
  if (kind.startsWith('file.')) return '📎';
  if (kind.startsWith('message.')) return '📌';
  if (kind === 'room.acknowledged' || kind === 'room.contained' || kind === 'room.status_changed') return '✔';
  return '•';
}

/** A level of the escalation ladder reached, as a system line naming who it notified. */
function EscalatedNotice({ notice, roomId }: { notice: Extract<Notice, { kind: 'escalated' }>; roomId: string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const nameOf = useMemberName(roomId);
  const e = notice.escalation;
  const who = (e.notify ?? []).map(nameOf).join(lang === 'en' ? ', ' : '、');
  return (
    <div className="msg-system escalated-notice" data-testid="escalated-notice" data-seq={notice.seq ?? undefined} data-level={e.level}>
      {t('escalated.line', { n: e.level, who })} · {formatTime(notice.at, lang)}
    </div>
  );
}

/** A completed report, as a system line with its download. */
function ReportNotice({ notice, roomId }: { notice: Extract<Notice, { kind: 'report' }>; roomId: string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const nameOf = useMemberName(roomId);
  const [params, setParams] = useSearchParams();
  const r = notice.report;
  const what = t(`reports.lang.${r.language}`) + (r.ai ? ` · ${t('reports.ai')}` : '');
  const view = () => {
    const next = new URLSearchParams(params);
    next.set('panel', 'reports');
    next.set('report', r.id);
    setParams(next, { replace: true });
  };
  return (
    <div className="msg-system report-notice" data-testid="report-notice" data-seq={notice.seq ?? undefined}>
      <span>📄 {t('reports.generated')}{paren(lang, what)} · {nameOf(r.requested_by)} · {formatTime(notice.at, lang)}</span>
      <span className="report-notice-actions">
        <button className="btn small ghost" onClick={view}>{t('reports.view')}</button>
        <button className="btn small ghost" onClick={() => downloadReport(r)}>{t('msg.download')}</button>
      </span>
    </div>
  );
}

function initials(name: string) {
  const n = name.trim();
  return /^[\u4e00-\u9fff]/.test(n) ? n.slice(-2) : n.split(/[\s@.]+/).filter(Boolean).slice(0, 2).map((x) => x[0]!.toUpperCase()).join('');
}

function MessageItem({ m, prev, me, room, canWrite, isOwner, onOpen, onHistory, act }: {
  m: Message;
  prev?: Message;
  me: string;
  room: Room;
  canWrite: boolean;
  isOwner: boolean;
  onOpen: (f: FileMeta) => void;
  onHistory: (messageId: string) => void;
  act: (p: Promise<unknown>) => void;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.content);
  const [picker, setPicker] = useState(false);
  const client = getClient();
  const mine = m.sender === me;
  const name = m.sender_name ?? m.sender;
  const grouped = prev && prev.sender === m.sender && prev.message_type !== 'system' &&
    Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60_000;
  const readonly = room.status === 'archived';
  const mentioned = mentionsOf(m).ids.length > 0 || mentionsOf(m).all;
  const nameOf = useMemberName(room.id);

  if (m.message_type === 'system') {
    return <div className="msg-system muted" data-seq={m.seq}>{m.content} · {formatTime(m.created_at, lang)}</div>;
  }
  const editable = !readonly && canWrite && canEdit(m, me, Date.now());
  const deletable = !readonly && !m.deleted && ((mine && canWrite) || isOwner);
  const toggle = (emoji: string) => {
    if (!client) return;
    const has = m.reactions.find((r) => r.emoji === emoji)?.users.includes(me) ?? false;
    act(client.react(room.id, m.id, emoji, !has));
    setPicker(false);
  };
  const save = () => {
    if (!client || !draft.trim()) return;
    act(client.edit(room.id, m.id, draft).then(() => setEditing(false)));
  };
  const del = () => {
    if (!client || !confirm(t('msg.confirmDelete'))) return;
    act(client.remove(room.id, m.id));
  };
  const pinnable = !readonly && !m.deleted && canWrite;
  const togglePin = () => {
    if (client) act(client.pin(room.id, m.id, !m.pinned));
  };

  return (
    <article className={`msg ${mine ? 'mine' : ''} ${grouped ? 'grouped' : ''} ${m.deleted ? 'deleted' : ''} ${m.pinned ? 'pinned' : ''} ${!m.deleted && mentionsMe(m, me) ? 'mentions-me' : ''}`} data-testid="message" data-seq={m.seq} data-id={m.id} data-pinned={m.pinned ? 'true' : undefined} tabIndex={-1}>
      {!grouped && <div className="avatar" aria-hidden>{initials(name)}</div>}
      <div className="msg-body">
        {!grouped && (
          <header className="msg-head">
            <span className="msg-sender">{name}</span>
            <time className="muted" dateTime={m.created_at} title={formatTime(m.created_at, lang, 'full')}>{formatTime(m.created_at, lang)}</time>
          </header>
        )}
        {m.pinned && <div className="pin-marker" data-testid="pin-marker">📌 {t('msg.pinned')}</div>}
        {m.deleted ? (
          <div className="msg-text muted"><em>{t('msg.deleted')}</em></div>
        ) : editing ? (
          <div className="msg-edit">
            <textarea aria-label={t('msg.edit')} value={draft} autoFocus rows={2} onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); save(); }
                if (e.key === 'Escape') setEditing(false);
              }} />
            <div className="actions">
              <button className="btn small ghost" onClick={() => setEditing(false)}>{t('msg.cancel')}</button>
              <button className="btn small primary" onClick={save}>{t('msg.save')}</button>
            </div>
          </div>
        ) : (
          <>
            {m.file && m.message_type === 'image_ref' && m.file.thumbnail_url ? (
              <button className="thumb" onClick={() => onOpen(m.file!)} aria-label={m.file.name} data-testid="thumbnail">
                <AuthImage src={m.file.thumbnail_url} alt={m.file.name} />
              </button>
            ) : m.file ? (
              <div className="file-card">
                <span className="file-icon" aria-hidden>{m.file.kind === 'document' ? '📄' : '📝'}</span>
                <span className="file-name">{m.file.name}</span>
                <span className="muted">{formatBytes(m.file.size)}</span>
                <button className="btn small ghost" onClick={() => void download(m.file!.content_url, m.file!.name)}>{t('msg.download')}</button>
              </div>
            ) : null}
            {m.content && <div className="msg-text">{mentioned ? <MessageText m={m} me={me} nameOf={nameOf} /> : m.content}{m.edited_at && <> <button type="button" className="muted edited" onClick={() => onHistory(m.id)} title={t('history.open')} aria-haspopup="dialog" data-testid="edited">{t('msg.edited')}</button></>}</div>}
            {m.message_type === 'incident_data' && Object.keys(m.metadata).length > 0 && (
              <dl className="incident-data">
                {Object.entries(m.metadata).map(([k, v]) => (<div key={k}><dt>{k}</dt><dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd></div>))}
              </dl>
            )}
          </>
        )}
        {m.reactions.length > 0 && (
          <div className="reactions">
            {m.reactions.map((r) => (
              <button key={r.emoji} className={`reaction ${r.users.includes(me) ? 'on' : ''}`} aria-pressed={r.users.includes(me)}
                title={r.users.join(', ')} onClick={() => toggle(r.emoji)} disabled={readonly} data-testid="reaction">
                {r.emoji} <span>{r.users.length}</span>
              </button>
            ))}
          </div>
        )}
      </div>
      {!m.deleted && !editing && !readonly && (
        <div className="msg-actions">
          <button className="icon-btn" aria-label={t('msg.react')} aria-expanded={picker} onClick={() => setPicker(!picker)}>☺</button>
          {editable && <button className="icon-btn" aria-label={t('msg.edit')} onClick={() => { setDraft(m.content); setEditing(true); }}>✎</button>}
          {deletable && <button className="icon-btn" aria-label={t('msg.delete')} onClick={del}>🗑</button>}
          {pinnable && (
            <button className="icon-btn" aria-label={m.pinned ? t('msg.unpin') : t('msg.pin')} aria-pressed={!!m.pinned} onClick={togglePin} data-testid="pin-toggle">📌</button>
          )}
          {picker && (
            <div className="emoji-picker" role="menu">
              {EMOJIS.map((e) => <button key={e} role="menuitem" className="icon-btn" onClick={() => toggle(e)}>{e}</button>)}
            </div>
          )}
        </div>
      )}
    </article>
  );
}
