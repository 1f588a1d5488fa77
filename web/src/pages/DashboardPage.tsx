// The figures dashboard (issue 19): counts, MTTA and MTTR, a chart per line and per
// severity, and the rooms open longest, over `GET /api/stats`. Loaded on demand so
// that the chart library stays out of the main bundle.

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useState } from 'react';
import { Bar } from 'react-chartjs-2';
import { Link, useSearchParams } from 'react-router';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES } from '../api/types';
import { SeverityBadge } from '../components/Badges';
import { useT, type Key } from '../i18n';
import { filtersFromParams, formatDuration, hasLineData, lineSeries, PERIODS, severitySeries, statsQuery, type Spread, type Stats } from '../stores/stats';
import { useSession } from '../stores/session';

ChartJS.register(CategoryScale, LinearScale, BarElement, Tooltip, Legend);
// The page's own fonts (Chart.js defaults to Helvetica, which has no CJK glyphs).
ChartJS.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", sans-serif';
ChartJS.defaults.font.size = 13;
ChartJS.defaults.color = '#5d6b7c';

const SEV_COLOURS = { low: '#38bdf8', medium: '#eab308', high: '#f97316', critical: '#b91c1c' } as const;

export default function DashboardPage() {
  const t = useT();
  const isAdmin = useSession((s) => s.user?.is_admin ?? false);
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const [line, setLine] = useState(filters.line);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  // The line is typed: one request once typing pauses, not one per key.
  useEffect(() => {
    const id = setTimeout(() => { if (line.trim() !== filters.line) set('line', line.trim()); }, 400);
    return () => clearTimeout(id);
  }, [line]); // eslint-disable-line react-hooks/exhaustive-deps

  const qs = statsQuery(filters, new Date());
  const stats = useQuery({
    queryKey: ['stats', qs],
    queryFn: () => api<Stats>('GET', `/api/stats?${qs}`),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  const unit = (u: 'd' | 'h' | 'min' | 's', n: number) => t(`elapsed.${u}` as Key, { n });
  const s = stats.data;

  return (
    <div className="page dashboard-page" data-testid="dashboard">
      <div className="page-head">
        <h1>{t('dash.title')}</h1>
        <span className="muted">{t(isAdmin ? 'dash.scopeAdmin' : 'dash.scope')}</span>
      </div>
      <div className="filters" role="search">
        <select aria-label={t('dash.period')} data-testid="dash-period" value={filters.days} onChange={(e) => set('days', e.target.value === '30' ? '' : e.target.value)}>
          {PERIODS.map((d) => <option key={d} value={d}>{t('dash.days', { n: d })}</option>)}
        </select>
        <input className="search dash-line" type="search" aria-label={t('dash.line')} placeholder={t('dash.linePlaceholder')} value={line} onChange={(e) => setLine(e.target.value)} maxLength={200} data-testid="dash-line" />
        <select aria-label={t('rooms.type')} value={filters.incident_type} onChange={(e) => set('incident_type', e.target.value)}>
          <option value="">{t('rooms.type')}: {t('rooms.all')}</option>
          {INCIDENT_TYPES.map((x) => <option key={x} value={x}>{t(`type.${x}`)}</option>)}
        </select>
        <select aria-label={t('rooms.severity')} data-testid="dash-severity" value={filters.severity} onChange={(e) => set('severity', e.target.value)}>
          <option value="">{t('rooms.severity')}: {t('rooms.all')}</option>
          {SEVERITIES.map((x) => <option key={x} value={x}>{t(`sev.${x}`)}</option>)}
        </select>
      </div>
      {stats.error && <div className="notice error" role="alert">{(stats.error as ApiError).message}</div>}
      {!s && stats.isLoading && <p className="muted">{t('rooms.loading')}</p>}
      {s && s.counts.total === 0 && (
        <div className="empty-state" data-testid="dash-empty"><p>{t('dash.empty')}</p></div>
      )}
      {s && s.counts.total > 0 && (
        <div className={`dash ${stats.isPlaceholderData ? 'stale' : ''}`} aria-busy={stats.isFetching}>
          <p className="muted dash-total" data-testid="dash-total">{t('dash.total', { n: s.counts.total })}</p>
          <div className="dash-cards">
            <Count label={t('dash.open')} n={s.counts.by_status.active} kind="active" />
            <Count label={t('dash.resolved')} n={s.counts.by_status.resolved} kind="resolved" />
            <Count label={t('dash.archived')} n={s.counts.by_status.archived} kind="archived" />
            <Timing label={t('dash.mtta')} spread={s.mtta} testId="dash-mtta" unit={unit} />
            <Timing label={t('dash.mttr')} spread={s.mttr} testId="dash-mttr" unit={unit} />
          </div>
          <div className="dash-charts">
            <LineChart stats={s} />
            <SeverityChart stats={s} />
          </div>
          <TypeTable stats={s} unit={unit} />
          <section className="dash-panel">
            <h2>{t('dash.slowest')}</h2>
            {s.slowest_open.length === 0 ? (
              <p className="muted">{t('dash.slowestEmpty')}</p>
            ) : (
              <ul className="slowest" data-testid="slowest-open">
                {s.slowest_open.map((r) => (
                  <li key={r.id} className={`sev-edge-${r.severity}`} data-testid="slowest-room">
                    <Link to={`/rooms/${r.id}`} className="slowest-title">{r.title}</Link>
                    <div className="slowest-meta">
                      <SeverityBadge severity={r.severity} />
                      {r.line && <span className="chip">{r.line}</span>}
                      <span>{t('dash.age', { d: formatDuration(r.age_secs, unit) })}</span>
                      <span className={r.acknowledged ? 'acked' : 'not-acked'}>{t(r.acknowledged ? 'dash.acked' : 'dash.notAcked')}</span>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
    </div>
  );
}

function Count({ label, n, kind }: { label: string; n: number; kind: string }) {
  return (
    <div className={`dash-card count-${kind}`} data-testid={`dash-count-${kind}`}>
      <span className="dash-card-label">{label}</span>
      <span className="dash-card-value">{n}</span>
    </div>
  );
}

function Timing({ label, spread, testId, unit }: { label: string; spread: Spread; testId: string; unit: (u: 'd' | 'h' | 'min' | 's', n: number) => string }) {
  const t = useT();
  return (
    <div className="dash-card timing" data-testid={testId}>
      <span className="dash-card-label">{label}</span>
      <span className="dash-card-value">
        {formatDuration(spread.median_secs, unit, t('dash.none'))} <small className="muted">{t('dash.median')}</small>
      </span>
      <span className="dash-card-sub muted">
        {t('dash.p90')} {formatDuration(spread.p90_secs, unit, t('dash.none'))} · {t('dash.n', { n: spread.n })}
      </span>
    </div>
  );
}

/** MTTA and MTTR per incident type, as a table: the figures a shift lead compares. */
function TypeTable({ stats, unit }: { stats: Stats; unit: (u: 'd' | 'h' | 'min' | 's', n: number) => string }) {
  const t = useT();
  const cell = (sp: Spread) => (
    <>
      {formatDuration(sp.median_secs, unit, t('dash.none'))}
      {sp.p90_secs !== null && <small className="muted"> · {t('dash.p90')} {formatDuration(sp.p90_secs, unit, t('dash.none'))}</small>}
    </>
  );
  return (
    <section className="dash-panel">
      <h2 id="dash-by-type">{t('dash.byType')}</h2>
      <div className="table-scroll">
        <table className="dash-table" aria-labelledby="dash-by-type" data-testid="dash-by-type">
          <thead>
            <tr>
              <th scope="col">{t('rooms.type')}</th>
              <th scope="col" className="num">{t('dash.rooms')}</th>
              <th scope="col">{t('dash.mtta')} <small className="muted">{t('dash.median')}</small></th>
              <th scope="col">{t('dash.mttr')} <small className="muted">{t('dash.median')}</small></th>
            </tr>
          </thead>
          <tbody>
            {stats.by_incident_type.map((r) => (
              <tr key={r.incident_type} data-testid={`dash-type-${r.incident_type}`}>
                <th scope="row">{t(`type.${r.incident_type}`)}</th>
                <td className="num">{r.count}</td>
                <td>{cell(r.mtta)}</td>
                <td>{cell(r.mttr)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function LineChart({ stats }: { stats: Stats }) {
  const t = useT();
  const series = lineSeries(stats);
  const title = t('dash.byLine', { unit: t(`dash.unit.${series.unit}`) });
  return (
    <section className="dash-panel">
      <h2>{title}</h2>
      {hasLineData(series) ? (
        <div className="chart-box" data-testid="chart-by-line">
          <Bar
            role="img"
            aria-label={t('dash.chartLabel', { title })}
            data={{
              labels: series.labels.map((l) => l ?? t('dash.noLine')),
              datasets: [
                { label: 'MTTA', data: series.mtta, backgroundColor: '#1d4ed8', maxBarThickness: 48 },
                { label: 'MTTR', data: series.mttr, backgroundColor: '#b91c1c', maxBarThickness: 48 },
              ],
            }}
            options={{
              maintainAspectRatio: false,
              animation: false,
              scales: { y: { beginAtZero: true } },
              plugins: { legend: { position: 'bottom' } },
            }}
          />
        </div>
      ) : (
        <p className="muted">{t('dash.noTimes')}</p>
      )}
    </section>
  );
}

function SeverityChart({ stats }: { stats: Stats }) {
  const t = useT();
  const series = severitySeries(stats);
  const title = t('dash.bySeverity');
  return (
    <section className="dash-panel">
      <h2>{title}</h2>
      <div className="chart-box" data-testid="chart-by-severity">
        <Bar
          role="img"
          aria-label={t('dash.chartLabel', { title })}
          data={{
            labels: series.map((x) => t(`sev.${x.severity}`)),
            datasets: [{ label: title, data: series.map((x) => x.count), backgroundColor: series.map((x) => SEV_COLOURS[x.severity]), maxBarThickness: 56 }],
          }}
          options={{
            maintainAspectRatio: false,
            animation: false,
            scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
            plugins: { legend: { display: false } },
          }}
        />
      </div>
    </section>
  );
}
