import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTERS,
  durationParts,
  filtersFromParams,
  formatDuration,
  chartUnit,
  hasLineData,
  lineSeries,
  severitySeries,
  statsQuery,
  type Stats,
} from './stats';

const spread = (median: number | null, n = median === null ? 0 : 1) => ({ median_secs: median, p90_secs: median, n });

const STATS: Stats = {
  from: '2026-01-01T00:00:00Z',
  to: '2026-01-31T00:00:00Z',
  counts: {
    by_status: { active: 2, resolved: 2, archived: 1 },
    by_severity: { low: 1, medium: 0, high: 1, critical: 3 },
    total: 5,
  },
  mtta: spread(210),
  mttr: spread(1200),
  by_line: [
    { line: 'L1', count: 3, mtta: spread(90), mttr: spread(3900) },
    { line: null, count: 2, mtta: spread(null), mttr: spread(null) },
  ],
  by_incident_type: [],
  slowest_open: [],
};

describe('statsQuery', () => {
  const now = new Date('2026-01-31T08:30:45.123Z');

  it('asks for the period before now, to the minute, and leaves empty filters out', () => {
    expect(statsQuery(DEFAULT_FILTERS, now)).toBe('from=2026-01-01T08%3A30%3A00Z');
    const q = new URLSearchParams(statsQuery({ ...DEFAULT_FILTERS, days: 7 }, now));
    expect(q.get('from')).toBe('2026-01-24T08:30:00Z');
    expect(q.has('to')).toBe(false);
    expect(q.has('line')).toBe(false);
  });

  it('trims the line and passes type and severity', () => {
    const q = new URLSearchParams(
      statsQuery({ days: 90, line: '  L 4 & 5 ', incident_type: 'quality_issue', severity: 'critical' }, now),
    );
    expect(q.get('from')).toBe('2025-11-02T08:30:00Z');
    expect(q.get('line')).toBe('L 4 & 5');
    expect(q.get('incident_type')).toBe('quality_issue');
    expect(q.get('severity')).toBe('critical');
  });

  it('gives the same query within a minute (a stable query key)', () => {
    expect(statsQuery(DEFAULT_FILTERS, new Date('2026-01-31T08:30:59Z'))).toBe(statsQuery(DEFAULT_FILTERS, now));
  });
});

describe('filtersFromParams', () => {
  it('reads the URL and falls back to 30 days', () => {
    expect(filtersFromParams(new URLSearchParams(''))).toEqual(DEFAULT_FILTERS);
    expect(filtersFromParams(new URLSearchParams('days=12'))).toEqual(DEFAULT_FILTERS);
    expect(filtersFromParams(new URLSearchParams('days=7&line=L2&severity=high&incident_type=other'))).toEqual({
      days: 7, line: 'L2', severity: 'high', incident_type: 'other',
    });
  });
});

describe('durations', () => {
  const en = (u: string, n: number) => `${n} ${u}`;
  it('shows the largest unit and the next one', () => {
    expect(formatDuration(45, en)).toBe('45 s');
    expect(formatDuration(720, en)).toBe('12 min');
    expect(formatDuration(3900, en)).toBe('1 h 5 min');
    expect(formatDuration(3600 + 9, en)).toBe('1 h');
    expect(formatDuration(2 * 86400 + 4 * 3600, en)).toBe('2 d 4 h');
  });
  it('rounds fractional seconds (percentiles interpolate)', () => {
    expect(durationParts(59.6)).toEqual([[1, 'min']]);
    expect(durationParts(0.2)).toEqual([[0, 's']]);
  });
  it('shows a dash when there is nothing to measure', () => {
    expect(formatDuration(null, en)).toBe('—');
    expect(formatDuration(undefined, en, 'n/a')).toBe('n/a');
    expect(durationParts(null)).toBeNull();
  });
});

describe('chart series', () => {
  it('chooses a unit', () => {
    expect([chartUnit(0), chartUnit(119), chartUnit(120), chartUnit(3 * 3600 - 1), chartUnit(3 * 3600)]).toEqual(['s', 's', 'min', 'min', 'h']);
  });
  it('gives medians per line in minutes, null where nothing was measured', () => {
    const s = lineSeries(STATS);
    expect(s).toEqual({ labels: ['L1', null], unit: 'min', mtta: [1.5, null], mttr: [65, null] });
    expect(hasLineData(s)).toBe(true);
  });
  it('picks seconds, minutes or hours from the largest median', () => {
    const one = (mtta: number, mttr: number) => ({ by_line: [{ line: 'L', count: 1, mtta: spread(mtta), mttr: spread(mttr) }] });
    expect(lineSeries(one(3, 45))).toMatchObject({ unit: 's', mtta: [3], mttr: [45] });
    expect(lineSeries(one(30, 4 * 3600))).toMatchObject({ unit: 'h', mtta: [0], mttr: [4] });
    expect(lineSeries({ by_line: [] }).unit).toBe('s');
  });
  it('keeps at most `max` lines', () => {
    expect(lineSeries(STATS, 1).labels).toEqual(['L1']);
  });
  it('has nothing to draw when no room was acknowledged or resolved', () => {
    expect(hasLineData(lineSeries({ by_line: [STATS.by_line[1]] }))).toBe(false);
    expect(hasLineData(lineSeries({ by_line: [] }))).toBe(false);
  });
  it('counts by severity from low to critical', () => {
    expect(severitySeries(STATS)).toEqual([
      { severity: 'low', count: 1 },
      { severity: 'medium', count: 0 },
      { severity: 'high', count: 1 },
      { severity: 'critical', count: 3 },
    ]);
  });
});
