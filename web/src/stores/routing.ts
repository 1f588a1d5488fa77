// Pure helpers for the routing rules admin page: the form's fields to and from the
// `POST`/`PATCH /api/routing-rules` body, and the server's validation messages
// mapped to the field they are about, to say them in the user's language.

import type { IncidentType, Role, RoutingRule, Severity } from '../api/types';
import { parseEmails } from './escalation';

/** A rule as the form edits it: "" for "any", people as the text of two lists. */
export interface RuleDraft {
  name: string;
  incident_type: IncidentType | '';
  severity: Severity | '';
  location: string;
  line: string;
  /** E-mails separated by commas, semicolons, spaces or new lines. */
  editors: string;
  viewers: string;
}

export const emptyDraft: RuleDraft = { name: '', incident_type: '', severity: '', location: '', line: '', editors: '', viewers: '' };

export function ruleToDraft(r: RoutingRule): RuleDraft {
  const of = (role: Role) => r.members.filter((m) => m.role === role).map((m) => m.user_id).join('\n');
  return {
    name: r.name,
    incident_type: r.incident_type ?? '',
    severity: r.severity ?? '',
    location: r.location ?? '',
    line: r.line ?? '',
    editors: of('editor'),
    viewers: of('viewer'),
  };
}

export interface RuleBody {
  name: string;
  incident_type: IncidentType | null;
  severity: Severity | null;
  location: string | null;
  line: string | null;
  members: { user_id: string; role: 'editor' | 'viewer' }[];
}

/**
 * The request body of a draft. Someone listed both as editor and as viewer is
 * an editor (the stronger role), once. Everything else is the server's to judge.
 */
export function buildRuleBody(d: RuleDraft): RuleBody {
  const editors = parseEmails(d.editors);
  const viewers = parseEmails(d.viewers).filter((v) => !editors.includes(v));
  const text = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    name: d.name.trim(),
    incident_type: d.incident_type || null,
    severity: d.severity || null,
    location: text(d.location),
    line: text(d.line),
    members: [
      ...editors.map((user_id) => ({ user_id, role: 'editor' as const })),
      ...viewers.map((user_id) => ({ user_id, role: 'viewer' as const })),
    ],
  };
}

/** The conditions a rule matches on, for its summary; empty when it matches every room. */
export function ruleConditions(r: Pick<RoutingRule, 'incident_type' | 'severity' | 'location' | 'line'>) {
  const out: ({ kind: 'type'; value: IncidentType } | { kind: 'severity'; value: Severity } | { kind: 'location' | 'line'; value: string })[] = [];
  if (r.incident_type) out.push({ kind: 'type', value: r.incident_type });
  if (r.severity) out.push({ kind: 'severity', value: r.severity });
  if (r.location) out.push({ kind: 'location', value: r.location });
  if (r.line) out.push({ kind: 'line', value: r.line });
  return out;
}

/** What a refused save was about, to show next to its field in the UI's language. */
export type RuleProblem =
  | { field: 'name'; kind: 'nameTaken' | 'nameLength' }
  | { field: 'location'; kind: 'locationLength' }
  | { field: 'line'; kind: 'lineLength' }
  | { field: 'members'; kind: 'membersNone' | 'membersEmail' | 'membersTooMany' | 'membersTwice' }
  | { field: null; kind: 'other' };

/** Reads the server's answer (`validation_failed` or `conflict`) to a rule's save. */
export function ruleProblem(code: string, message: string): RuleProblem {
  if (code === 'conflict') return { field: 'name', kind: 'nameTaken' };
  const field = /^(name|location|line|members)\b/.exec(message)?.[1];
  if (field === 'name') return { field, kind: 'nameLength' };
  if (field === 'location') return { field, kind: 'locationLength' };
  if (field === 'line') return { field, kind: 'lineLength' };
  if (field === 'members') {
    if (/at least one/.test(message)) return { field, kind: 'membersNone' };
    if (/at most/.test(message)) return { field, kind: 'membersTooMany' };
    if (/listed twice/.test(message)) return { field, kind: 'membersTwice' };
    return { field, kind: 'membersEmail' };
  }
  return { field: null, kind: 'other' };
}
