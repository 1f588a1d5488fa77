import { describe, expect, it } from 'vitest';
import { alarming, elapsedParts, milestones } from './milestones';

describe('milestones', () => {
  it('gives each reached milestone its time from detection', () => {
    const steps = milestones({
      created_at: '2026-01-10T08:00:00Z',
      acknowledged_at: '2026-01-10T08:01:30Z',
      contained_at: null,
      resolved_at: '2026-01-10T10:00:00Z',
    });
    expect(steps.map((s) => [s.key, s.elapsedMs])).toEqual([
      ['detected', 0],
      ['acknowledged', 90_000],
      ['contained', null],
      ['resolved', 7_200_000],
    ]);
    expect(steps[1].at).toBe('2026-01-10T08:01:30Z');
  });

  it('alarms for active high and critical rooms until acknowledged', () => {
    const room = { status: 'active', severity: 'critical', acknowledged_at: null } as const;
    expect(alarming(room)).toBe(true);
    expect(alarming({ ...room, severity: 'high' })).toBe(true);
    expect(alarming({ ...room, severity: 'medium' })).toBe(false);
    expect(alarming({ ...room, acknowledged_at: '2026-01-10T08:01:30Z' })).toBe(false);
    expect(alarming({ ...room, status: 'resolved' })).toBe(false);
  });

  it('writes durations with their two largest units', () => {
    expect(elapsedParts(0)).toEqual([[0, 's']]);
    expect(elapsedParts(45_400)).toEqual([[45, 's']]);
    expect(elapsedParts(12 * 60_000 + 5_000)).toEqual([[12, 'min'], [5, 's']]);
    expect(elapsedParts(3 * 3_600_000 + 5 * 60_000 + 9_000)).toEqual([[3, 'h'], [5, 'min']]);
    expect(elapsedParts(3_600_000 + 9_000)).toEqual([[1, 'h']]);
    expect(elapsedParts(2 * 86_400_000 + 4 * 3_600_000 + 1_000)).toEqual([[2, 'd'], [4, 'h']]);
  });
});
