// The figures dashboard (issue 19): the `GET /api/stats` answer, the query string
// the page's filters make, human durations, and the chart series. Pure functions.

import type { IncidentType, Severity } from '../api/types';
import { SEVERITIES } from '../api/types';
import { elapsedParts, type ElapsedUnit } from './milestones';

export interface Spread {
  median_secs: number | null;
  p90_secs: number | null;
  n: number;
}

export interface LineFigures {
  line: string | null;
  count: number;
  mtta: Spread;
  mttr: Spread;
}

export interface TypeFigures {
  incident_type: IncidentType;
  count: number;
  mtta: Spread;
  mttr: Spread;
}

export interface OpenRoom {
  id: string;
  title: string;
  severity: Severity;
  line: string | null;
  created_at: string;
  age_secs: number;
  acknowledged: boolean;
}

export interface Stats {
  from: string;
  to: string;
  counts: {
    by_status: { active: number; resolved: number; archived: number };
    by_severity: Record<Severity, number>;
    total: number;
  };
  mtta: Spread;
  mttr: Spread;
  by_line: LineFigures[];
  by_incident_type: TypeFigures[];
  slowest_open: OpenRoom[];
}

export const PERIODS = [7, 30, 90] as const;
export type Period = (typeof PERIODS)[number];

export interface StatsFilters {
  days: Period;
  line: string;
  incident_type: IncidentType | '';
  severity: Severity | '';
}

export const DEFAULT_FILTERS: StatsFilters = { days: 30, line: '', incident_type: '', severity: '' };

/** Reads the filters from the page's URL parameters, falling back to the defaults. */
export function filtersFromParams(p: URLSearchParams): StatsFilters {
  const days = Number(p.get('days'));
  return {
    days: (PERIODS as readonly number[]).includes(days) ? (days as Period) : DEFAULT_FILTERS.days,
    line: p.get('line') ?? '',
    incident_type: (p.get('incident_type') ?? '') as IncidentType | '',
    severity: (p.get('severity') ?? '') as Severity | '',
  };
}

/**
 * The query string for `GET /api/stats`: `from` is `days` before `now` (to the minute,
 * so that the query key stays the same for a while), `to` is left to the server (now);
 * empty filters are left out and the line is trimmed.
 */
export function statsQuery(f: StatsFilters, now: Date): string {
  const minute = Math.floor(now.getTime() / 60_000) * 60_000;
  const from = new Date(minute - f.days * 86_400_000);
  const q = new URLSearchParams();
  q.set('from', from.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const line = f.line.trim();
  if (line) q.set('line', line);
  if (f.incident_type) q.set('incident_type', f.incident_type);
  if (f.severity) q.set('severity', f.severity);
  return q.toString();
}

/**
 * A duration in seconds as its parts for display ("12 分", "1 h 5 min"); `null`
 * (no acknowledged or resolved rooms) stays `null`.
 */
export function durationParts(secs: number | null | undefined): [number, ElapsedUnit][] | null {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return null;
  return elapsedParts(Math.round(secs) * 1000);
}

/** Joins duration parts with the translated unit words; `empty` when there is none. */
export function formatDuration(
  secs: number | null | undefined,
  unit: (u: ElapsedUnit, n: number) => string,
  empty = '—',
): string {
  const parts = durationParts(secs);
  return parts ? parts.map(([n, u]) => unit(u, n)).join(' ') : empty;
}

export type ChartUnit = 's' | 'min' | 'h';

export interface LineSeries {
  /** One label per line; `null` for the rooms without a line (the page names it). */
  labels: (string | null)[];
  /** The unit of the values: seconds, minutes or hours, whichever suits the largest. */
  unit: ChartUnit;
  /** Median time to acknowledge in `unit`, `null` where no room was acknowledged. */
  mtta: (number | null)[];
  /** Median time to resolve in `unit`, `null` where no room was resolved. */
  mttr: (number | null)[];
}

const UNIT_SECS: Record<ChartUnit, number> = { s: 1, min: 60, h: 3600 };

/** Seconds under 2 minutes, minutes under 3 hours, hours beyond. */
export function chartUnit(maxSecs: number): ChartUnit {
  return maxSecs < 120 ? 's' : maxSecs < 3 * 3600 ? 'min' : 'h';
}

/**
 * The per-line bar chart: MTTA and MTTR medians, lines in the server's order (most
 * rooms first), at most `max` of them, in one unit chosen from the largest value.
 */
export function lineSeries(stats: Pick<Stats, 'by_line'>, max = 12): LineSeries {
  const rows = stats.by_line.slice(0, max);
  const all = rows.flatMap((r) => [r.mtta.median_secs, r.mttr.median_secs]).filter((v): v is number => v !== null);
  const unit = chartUnit(Math.max(0, ...all));
  const conv = (secs: number | null) => (secs === null ? null : Math.round((secs / UNIT_SECS[unit]) * 10) / 10);
  return {
    labels: rows.map((r) => r.line),
    unit,
    mtta: rows.map((r) => conv(r.mtta.median_secs)),
    mttr: rows.map((r) => conv(r.mttr.median_secs)),
  };
}

/** Counts by severity, low to critical. */
export function severitySeries(stats: Pick<Stats, 'counts'>): { severity: Severity; count: number }[] {
  return SEVERITIES.map((severity) => ({ severity, count: stats.counts.by_severity[severity] ?? 0 }));
}

/** Whether any line has a median to draw. */
export function hasLineData(s: LineSeries): boolean {
  return s.mtta.some((v) => v !== null) || s.mttr.some((v) => v !== null);
}
