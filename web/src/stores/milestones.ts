// An incident's milestones (detected, acknowledged, contained, resolved) as the room
// header shows them, and whether a room must catch the eye. Pure functions.

import type { Room } from '../api/types';

export type MilestoneKey = 'detected' | 'acknowledged' | 'contained' | 'resolved';

export interface Milestone {
  key: MilestoneKey;
  /** When it was reached; `null` while it is not. */
  at: string | null;
  /** Milliseconds from detection (the room's creation); `null` while not reached. */
  elapsedMs: number | null;
}

export function milestones(room: Pick<Room, 'created_at' | 'acknowledged_at' | 'contained_at' | 'resolved_at'>): Milestone[] {
  const start = Date.parse(room.created_at);
  const step = (key: MilestoneKey, at: string | null): Milestone => ({
    key,
    at,
    elapsedMs: at ? Math.max(0, Date.parse(at) - start) : null,
  });
  return [
    step('detected', room.created_at),
    step('acknowledged', room.acknowledged_at),
    step('contained', room.contained_at),
    step('resolved', room.resolved_at),
  ];
}

/** An active high or critical room nobody has acknowledged: it pulses until someone does. */
export function alarming(room: Pick<Room, 'status' | 'severity' | 'acknowledged_at'>): boolean {
  return room.status === 'active' && !room.acknowledged_at && (room.severity === 'high' || room.severity === 'critical');
}

export type ElapsedUnit = 'd' | 'h' | 'min' | 's';

const UNITS: [ElapsedUnit, number][] = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];

/**
 * A duration as its largest unit and the next one when not zero: 45 s, 12 min 5 s,
 * 3 h 5 min, 1 h (not "1 h 9 s"), 2 d 4 h.
 */
export function elapsedParts(ms: number): [number, ElapsedUnit][] {
  const total = Math.max(0, Math.floor(ms / 1000));
  const i = UNITS.findIndex(([, secs]) => total >= secs);
  if (i < 0) return [[0, 's']];
  const [unit, secs] = UNITS[i];
  const parts: [number, ElapsedUnit][] = [[Math.floor(total / secs), unit]];
  const next = UNITS[i + 1];
  if (next) {
    const n = Math.floor((total % secs) / next[1]);
    if (n > 0) parts.push([n, next[0]]);
  }
  return parts;
}
