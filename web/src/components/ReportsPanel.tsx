import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/http';
import type { Report, ReportBlock, ReportContent, ReportDetail, ReportLanguage, ReportList, ReportStatus, Room } from '../api/types';
import { formatBytes, formatTime, useLang, useT } from '../i18n';
import { isFinished, mergeList, mergeReport, progressFraction, reportLanguage, STAGES, upsertReport } from '../stores/reports';
import { AuthImage, download } from './AuthImage';
import { useMembers } from './MembersPanel';

const LANGUAGES: ReportLanguage[] = ['zh-TW', 'en'];
/** While a report runs, the API is asked this often (the socket's frames usually come first). */
const POLL_MS = 2000;

/** The room's reports, newest first; polled while one of them is unfinished. */
export function useReports(roomId: string, enabled = true) {
  const qc = useQueryClient();
  return useQuery({
    queryKey: ['reports', roomId],
    queryFn: async () => {
      const fresh = await api<ReportList>('GET', `/api/rooms/${roomId}/reports`);
      return mergeList(qc.getQueryData<ReportList>(['reports', roomId]), fresh);
    },
    enabled,
    refetchInterval: (q) => (q.state.data?.reports.some((r) => !isFinished(r.status)) ? POLL_MS : false),
  });
}

/** A member's display name (their id until the member list is loaded). */
export function useMemberName(roomId: string): (id: string) => string {
  const members = useMembers(roomId);
  return (id) => members.data?.members.find((m) => m.user_id === id)?.display_name ?? id;
}

export function downloadReport(r: Report) {
  if (r.content_url && r.file_name) void download(r.content_url, r.file_name);
}

export function ReportsPanel({ room, canGenerate, initial }: { room: Room; canGenerate: boolean; initial?: string | null }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const list = useReports(room.id);
  const nameOf = useMemberName(room.id);
  const [language, setLanguage] = useState<ReportLanguage>(() => reportLanguage(lang));
  const [ai, setAi] = useState(false);
  const [selected, setSelected] = useState<string | null>(initial ?? null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const viewTop = useRef<HTMLDivElement>(null);
  // A report picked (here or from the timeline) is shown above the list: bring it into view.
  const pick = (id: string) => {
    setSelected(id);
    viewTop.current?.scrollIntoView({ block: 'nearest' });
  };
  useEffect(() => { if (initial) pick(initial); }, [initial]); // eslint-disable-line react-hooks/exhaustive-deps
  const reports = list.data?.reports ?? [];
  const aiAvailable = !!list.data?.ai_available;
  const current = reports.find((r) => r.id === selected) ?? reports[0];

  const start = useMutation({
    mutationFn: () => api<Report>('POST', `/api/rooms/${room.id}/reports`, { language, ai: ai && aiAvailable }),
    onSuccess: (r) => {
      const known = reports.some((x) => x.id === r.id);
      qc.setQueryData<ReportList>(['reports', room.id], (old) => upsertReport(old ?? { reports: [], ai_available: aiAvailable }, r));
      setSelected(r.id);
      setError(null);
      setNote(known && !isFinished(r.status) ? t('reports.already') : null);
    },
    onError: (e) => {
      setNote(null);
      const code = e instanceof ApiError ? e.code : '';
      setError(code === 'forbidden' ? t('err.forbidden')
        : code === 'unavailable' ? t('reports.busy')
        : code === 'validation_failed' && ai ? t('reports.noAi')
        : t('err.generic', { msg: e instanceof Error ? e.message : String(e) }));
    },
  });

  return (
    <section className="panel reports-panel" aria-label={t('reports.title')} data-testid="reports-panel">
      <h2>{t('reports.title')} <span className="muted">({reports.length})</span></h2>
      {canGenerate ? (
        <form className="report-form" onSubmit={(e) => { e.preventDefault(); start.mutate(); }} data-testid="report-form">
          <label className="field">
            <span>{t('reports.language')}</span>
            <select name="language" value={language} onChange={(e) => setLanguage(e.target.value as ReportLanguage)}>
              {LANGUAGES.map((l) => <option key={l} value={l}>{t(`reports.lang.${l}`)}</option>)}
            </select>
          </label>
          {aiAvailable && (
            <label className="check" title={t('reports.aiHint')}>
              <input type="checkbox" name="ai" checked={ai} onChange={(e) => setAi(e.target.checked)} data-testid="report-ai" />
              {t('reports.ai')}
            </label>
          )}
          {aiAvailable && ai && <small className="muted report-hint">{t('reports.aiHint')}</small>}
          <button className="btn primary" type="submit" disabled={start.isPending} data-testid="generate-report">
            📄 {t('reports.generate')}
          </button>
        </form>
      ) : (
        <p className="muted" data-testid="reports-viewer-note">{t('reports.viewerNote')}</p>
      )}
      {error && <div className="notice error" role="alert">{error}</div>}
      {note && <div className="notice warn" role="status">{note}</div>}
      <div ref={viewTop} className="report-view-anchor" />
      {current && <ReportView key={current.id} room={room} report={current} nameOf={nameOf} />}

      <h3>{t('reports.history')}</h3>
      {list.error && <div className="notice error" role="alert">{(list.error as ApiError).message}</div>}
      {list.data && reports.length === 0 && <p className="muted">{t('reports.empty')}</p>}
      <ul className="report-list" data-testid="report-list">
        {reports.map((r) => (
          <li key={r.id} className={r.id === current?.id ? 'selected' : ''} data-testid="report-item" data-status={r.status}>
            <button className="report-pick" onClick={() => pick(r.id)} aria-pressed={r.id === current?.id}>
              <strong>{formatTime(r.created_at, lang)}</strong>
              <small className="muted">
                {t(`reports.lang.${r.language}`)}{r.ai ? ` · ${t('reports.ai')}` : ''} · {nameOf(r.requested_by)}
              </small>
            </button>
            <ReportStatusBadge status={r.status} />
            {r.status === 'completed' && (
              <button className="btn small ghost" aria-label={`${t('msg.download')} ${r.file_name ?? ''}`} onClick={() => downloadReport(r)}>⬇</button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ReportStatusBadge({ status }: { status: ReportStatus }) {
  const t = useT();
  return <span className={`badge report-${status}`} data-testid="report-status">{t(`reports.stage.${status}`)}</span>;
}

function ReportView({ room, report, nameOf }: { room: Room; report: Report; nameOf: (id: string) => string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const key = ['report', room.id, report.id];
  const detail = useQuery({
    queryKey: key,
    queryFn: async () => mergeReport(
      qc.getQueryData<ReportDetail>(key),
      await api<ReportDetail>('GET', `/api/rooms/${room.id}/reports/${report.id}`),
    ),
    refetchInterval: (q) => (isFinished(q.state.data?.status ?? report.status) ? false : POLL_MS),
  });
  // The list (or a frame) may learn first that the report completed: fetch its sections.
  const stale = report.status === 'completed' && detail.data && !detail.data.content;
  useEffect(() => { if (stale) void detail.refetch(); }, [stale]); // eslint-disable-line react-hooks/exhaustive-deps
  const r: Report = detail.data ? mergeReport<Report>(report, detail.data) : report;
  const content = r.status === 'completed' ? detail.data?.content : null;

  return (
    <article className="report-view" data-testid="report-view" data-status={r.status}>
      <header className="report-view-head">
        <div className="report-view-meta">
          <strong>{t(`reports.lang.${r.language}`)}{r.ai ? ` · ${t('reports.ai')}` : ''}</strong>
          <small className="muted">{formatTime(r.created_at, lang)} · {t('reports.by', { name: nameOf(r.requested_by) })}</small>
        </div>
        {r.status === 'completed' ? (
          <button className="btn primary small" onClick={() => downloadReport(r)} data-testid="report-download">
            ⬇ {t('reports.download')}{r.size ? ` · ${formatBytes(r.size)}` : ''}
          </button>
        ) : (
          <ReportStatusBadge status={r.status} />
        )}
      </header>
      {!isFinished(r.status) && <ReportProgressView status={r.status} />}
      {r.status === 'failed' && (
        <div className="notice error" role="alert" data-testid="report-failed">{t('reports.failed', { reason: r.reason ?? '' })}</div>
      )}
      {content ? <ReportPreview room={room} content={content} /> : r.status === 'completed' && <p className="muted">{t('rooms.loading')}</p>}
    </article>
  );
}

function ReportProgressView({ status }: { status: ReportStatus }) {
  const t = useT();
  const at = STAGES.indexOf(status);
  return (
    <div className="report-progress" role="status" aria-live="polite" data-testid="report-progress" data-stage={status}>
      <span>{t('reports.running')}</span>
      <progress max={1} value={progressFraction(status)} />
      <ol className="report-stages">
        {STAGES.slice(0, -1).map((s, i) => (
          <li key={s} className={i < at ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>
            {t(`reports.stage.${s}`)}
          </li>
        ))}
      </ol>
    </div>
  );
}

function ReportPreview({ room, content }: { room: Room; content: ReportContent }) {
  const t = useT();
  return (
    <div className="report-preview" lang={content.language} data-testid="report-preview" aria-label={t('reports.preview')}>
      <h3 className="report-title">{content.title}</h3>
      {content.subtitle.map((s, i) => <p key={i} className="muted report-subtitle">{s}</p>)}
      {content.sections.map((sec) => (
        <section key={sec.key} data-section={sec.key}>
          <h4>{sec.heading}</h4>
          {sec.blocks.map((b, i) => <Block key={i} room={room} b={b} />)}
        </section>
      ))}
    </div>
  );
}

function Block({ room, b }: { room: Room; b: ReportBlock }) {
  switch (b.type) {
    case 'paragraph':
      return <p className="report-text">{b.text}</p>;
    case 'note':
      return <p className="report-text report-note"><em>{b.text}</em></p>;
    case 'subheading':
      return <h5 className="report-subheading">{b.text}</h5>;
    case 'table':
      return (
        <div className="table-scroll">
          <table className="report-table">
            <thead><tr>{b.header.map((h, i) => <th key={i} scope="col">{h}</th>)}</tr></thead>
            <tbody>{b.rows.map((row, i) => <tr key={i}>{row.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
          </table>
        </div>
      );
    case 'image':
      return (
        <figure className="report-figure">
          <AuthImage src={`/api/rooms/${room.id}/files/${b.file_id}/thumbnail`} alt={b.caption} />
          <figcaption>{b.caption}</figcaption>
        </figure>
      );
  }
}
