// Pure helpers for the room templates admin page: the form's fields to and from
// the `POST /api/templates` / `PATCH /api/templates/{id}` body, and the server's
// refusals mapped to the field they are about, to say them in the user's language.

import type { IncidentType, Severity, Template } from '../api/types';

/** Default members are editors or viewers: the room's creator owns it. */
export type MemberRole = 'editor' | 'viewer';

export interface MemberDraft {
  email: string;
  role: MemberRole;
}

/** A template as the form edits it. */
export interface TemplateDraft {
  name: string;
  incident_type: IncidentType;
  default_severity: Severity;
  default_description: string;
  members: MemberDraft[];
}

export interface TemplateBody {
  name: string;
  incident_type: IncidentType;
  default_severity: Severity;
  default_description: string;
  default_members: { user_id: string; role: MemberRole }[];
}

/** The server's limits (src/http/templates.rs), also set on the inputs. */
export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 10_000;
export const MEMBERS_MAX = 200;

export function emptyDraft(): TemplateDraft {
  return { name: '', incident_type: 'equipment_failure', default_severity: 'medium', default_description: '', members: [] };
}

export function templateToDraft(t: Template): TemplateDraft {
  return {
    name: t.name,
    incident_type: t.incident_type,
    default_severity: t.default_severity,
    default_description: t.default_description ?? '',
    members: t.default_members.map((m) => ({ email: m.user_id, role: m.role === 'viewer' ? 'viewer' : 'editor' })),
  };
}

/**
 * The request body of a draft: the name trimmed, rows without an e-mail left out,
 * e-mails trimmed and lower-cased (as the server stores them). Everything else,
 * including a name that is too long or an e-mail listed twice, is the server's
 * to judge; the page shows its answer next to the field.
 */
export function buildTemplateBody(d: TemplateDraft): TemplateBody {
  return {
    name: d.name.trim(),
    incident_type: d.incident_type,
    default_severity: d.default_severity,
    default_description: d.default_description,
    default_members: d.members
      .map((m) => ({ user_id: m.email.trim().toLowerCase(), role: m.role }))
      .filter((m) => m.user_id !== ''),
  };
}

export type TemplateField = 'name' | 'incident_type' | 'default_severity' | 'default_description' | 'default_members';

/** What a refusal is about: the field, a reason to say in the UI's language, and for members which row. */
export type TemplateProblem =
  | { field: 'name'; kind: 'required' | 'length' | 'control' | 'taken' }
  | { field: 'incident_type' | 'default_severity'; kind: 'invalid' }
  | { field: 'default_description'; kind: 'length' | 'control' }
  | { field: 'default_members'; kind: 'tooMany' }
  | { field: 'default_members'; kind: 'email' | 'role' | 'twice'; row: number | null; value: string }
  | { field: null; kind: 'other' };

/** The row of the draft whose e-mail is `value` as the server echoed it (it lower-cases some). */
function rowOf(d: TemplateDraft, value: string): number | null {
  const v = value.trim().toLowerCase();
  const i = d.members.findIndex((m) => m.email.trim().toLowerCase() === v);
  return i < 0 ? null : i;
}

/**
 * Reads the server's refusal of `d` (its status, stable code and message) as a
 * problem with one field. Messages follow src/http/templates.rs: "name must be 1
 * to 100 characters", "default_members: `x` is not an e-mail address", …
 */
export function templateProblem(status: number, code: string, message: string, d: TemplateDraft): TemplateProblem {
  if (status === 409 || code === 'conflict') return { field: 'name', kind: 'taken' };
  if (code !== 'validation_failed') return { field: null, kind: 'other' };
  const m = message.trim();
  if (/^name is required$/.test(m)) return { field: 'name', kind: 'required' };
  if (/^name must be \d+ to \d+ characters$/.test(m)) return { field: 'name', kind: 'length' };
  if (/^name must not contain control characters$/.test(m)) return { field: 'name', kind: 'control' };
  if (/^(incident_type|default_severity)( is required|: )/.test(m)) {
    return { field: m.startsWith('incident_type') ? 'incident_type' : 'default_severity', kind: 'invalid' };
  }
  if (/^default_description must be at most \d+ characters$/.test(m)) return { field: 'default_description', kind: 'length' };
  if (/^default_description must not contain control characters$/.test(m)) return { field: 'default_description', kind: 'control' };
  if (/^default_members: at most \d+ people$/.test(m)) return { field: 'default_members', kind: 'tooMany' };
  let x = /^default_members: `(.*)` is not an e-mail address$/s.exec(m);
  if (x) return { field: 'default_members', kind: 'email', row: rowOf(d, x[1]), value: x[1] };
  x = /^default_members: role `(.*)` must be editor or viewer/s.exec(m);
  if (x) return { field: 'default_members', kind: 'role', row: null, value: x[1] };
  x = /^default_members: (.*) is listed twice$/s.exec(m);
  if (x) {
    // The second row with that e-mail is the one to take out.
    const v = x[1].toLowerCase();
    const rows = d.members.flatMap((r, i) => (r.email.trim().toLowerCase() === v ? [i] : []));
    return { field: 'default_members', kind: 'twice', row: rows.length > 1 ? rows[1] : rowOf(d, v), value: x[1] };
  }
  return { field: null, kind: 'other' };
}
