// Pure helpers for the escalation ladder admin page: the form's text fields to
// and from the `PUT /api/escalation-policies/{severity}` body, and the server's
// validation messages mapped to a sentence in the user's language.

import type { EscalationLevel, Severity } from '../api/types';

/** Severities as the admin page lists them: the most urgent first. */
export const LADDER_ORDER: Severity[] = ['critical', 'high', 'medium', 'low'];

/** One level as the form edits it: both fields are the inputs' text. */
export interface LevelDraft {
  /** Minutes: "5", "1.5", or minutes and seconds "1:30". */
  after: string;
  /** E-mails separated by commas, semicolons, spaces or new lines. */
  notify: string;
}

/** Seconds shown as minutes: whole minutes as "5", anything else as "m:ss". */
export function secsToMinutes(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s % 60 === 0) return String(s / 60);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The seconds of a minutes field ("5", "1.5", "0,5", "1:30"), or null when it is
 * not a number of minutes. Range and order are left to the server to judge.
 */
export function minutesToSecs(text: string): number | null {
  const t = text.trim().replace(',', '.');
  const ms = /^(\d+):([0-5]?\d)$/.exec(t);
  if (ms) return Number(ms[1]) * 60 + Number(ms[2]);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return null;
  return Math.round(Number(t) * 60);
}

/** The e-mails of a notify field: trimmed, lower-cased, each once, in order. */
export function parseEmails(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[\s,;，；、]+/)) {
    const e = raw.trim().toLowerCase();
    if (e && !out.includes(e)) out.push(e);
  }
  return out;
}

export function levelToDraft(l: EscalationLevel): LevelDraft {
  return { after: secsToMinutes(l.after_secs), notify: l.notify.join('\n') };
}

/**
 * The PUT body of the drafts, or the 1-based number of the first level whose
 * minutes are not a number (nothing else is checked here: the server says what
 * is wrong with a ladder, and the page shows its answer).
 */
export function buildPutBody(drafts: LevelDraft[]): { levels: EscalationLevel[] } | { badMinutes: number } {
  const levels: EscalationLevel[] = [];
  for (const [i, d] of drafts.entries()) {
    const after_secs = minutesToSecs(d.after);
    if (after_secs === null) return { badMinutes: i + 1 };
    levels.push({ after_secs, notify: parseEmails(d.notify) });
  }
  return { levels };
}

/** What a `validation_failed` message of the ladder PUT is about, to say it in the UI's language. */
export type LadderProblem =
  | { kind: 'tooMany' }
  | { kind: 'range'; level: number }
  | { kind: 'order'; level: number }
  | { kind: 'count'; level: number }
  | { kind: 'email'; level: number }
  | { kind: 'other'; level: number | null };

/** Reads the server's message ("levels[2].after_secs: must be later than …"). */
export function ladderProblem(message: string): LadderProblem {
  if (/^levels: at most/.test(message)) return { kind: 'tooMany' };
  const m = /^levels\[(\d+)\]\.(after_secs|notify): (.*)$/s.exec(message);
  if (!m) return { kind: 'other', level: null };
  const level = Number(m[1]);
  const rest = m[3];
  if (m[2] === 'after_secs') return /later than/.test(rest) ? { kind: 'order', level } : { kind: 'range', level };
  return /people$/.test(rest) && /^\d+ to \d+/.test(rest) ? { kind: 'count', level } : { kind: 'email', level };
}
