// Pure reducers for a room's incident reports: where a report is, merged from the
// `report_progress` frames (sent to the requester's sockets) and from polling the
// REST API, so that a late answer never moves a report back a stage.

import type { Report, ReportLanguage, ReportList, ReportStatus } from '../api/types';
import type { Lang } from '../i18n';
import type { ServerFrame } from '../protocol/generated';

/** The stages a report runs through, in order (`failed` may end any of them). */
export const STAGES: ReportStatus[] = ['pending', 'collecting', 'writing', 'assembling', 'completed'];

/** A `report_progress` frame's fields (the type is generated from the server's). */
export type ReportProgress = Omit<Extract<ServerFrame, { type: 'report_progress' }>, 'type'>;

export function isFinished(status: ReportStatus): boolean {
  return status === 'completed' || status === 'failed';
}

function rank(status: ReportStatus): number {
  return status === 'failed' ? STAGES.length : STAGES.indexOf(status);
}

function asStatus(s: string): ReportStatus | null {
  return s === 'failed' || (STAGES as string[]).includes(s) ? (s as ReportStatus) : null;
}

/** The report language matching the UI's. */
export function reportLanguage(lang: Lang): ReportLanguage {
  return lang === 'en' ? 'en' : 'zh-TW';
}

/**
 * `incoming`'s view of a report, unless `have` is further along: stages only move
 * forward, and a finished report stays as it finished.
 */
export function mergeReport<R extends Report>(have: R | undefined, incoming: R): R {
  if (!have || have.id !== incoming.id) return incoming;
  if (isFinished(incoming.status)) return incoming;
  if (isFinished(have.status) || rank(have.status) > rank(incoming.status)) {
    return { ...incoming, status: have.status, reason: have.reason };
  }
  return incoming;
}

/** Puts `r` into the list (newest first), merged with the copy already there. */
export function upsertReport(list: ReportList, r: Report): ReportList {
  const idx = list.reports.findIndex((x) => x.id === r.id);
  if (idx < 0) {
    const reports = [r, ...list.reports].sort((a, b) => b.created_at.localeCompare(a.created_at));
    return { ...list, reports };
  }
  const reports = list.reports.slice();
  reports[idx] = mergeReport(reports[idx], r);
  return { ...list, reports };
}

/** A fresh list from the API merged with the cached one (frames may be ahead of it). */
export function mergeList(have: ReportList | undefined, fresh: ReportList): ReportList {
  if (!have) return fresh;
  const old = new Map(have.reports.map((r) => [r.id, r]));
  return { ...fresh, reports: fresh.reports.map((r) => mergeReport(old.get(r.id), r)) };
}

/** A progress frame applied to one report; unchanged when it is for another or goes back. */
export function progressReport<R extends Report>(r: R, p: ReportProgress): R {
  const status = asStatus(p.status);
  if (r.id !== p.report_id || !status || isFinished(r.status) || rank(status) < rank(r.status)) return r;
  return { ...r, status, reason: status === 'failed' ? (p.reason ?? r.reason ?? '') : r.reason };
}

/** A progress frame applied to the room's list; `null` when the list does not hold that report. */
export function progressList(list: ReportList, p: ReportProgress): ReportList | null {
  if (!list.reports.some((r) => r.id === p.report_id)) return null;
  return { ...list, reports: list.reports.map((r) => progressReport(r, p)) };
}

/** How far along a report is, 0–1, for a progress bar. */
export function progressFraction(status: ReportStatus): number {
  if (isFinished(status)) return 1;
  return (STAGES.indexOf(status) + 0.5) / (STAGES.length - 1);
}
