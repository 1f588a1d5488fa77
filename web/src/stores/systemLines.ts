// Room events that are not messages, as lines of the conversation (issue 20).
// Every event kind maps to a change of a message, a line of its own, or both
// (`EVENT_EFFECTS`); systemLines.test.ts goes through the generated list of kinds so
// that a new kind without a mapping fails. The lines are built from the same event
// log the socket delivers and the history pages carry: nothing is stored as a
// message.

import type { RoomEvent } from '../api/types';
import type { Key } from '../i18n';
import type { EventKind } from '../protocol/generated';

/** What an event does to the conversation. */
export type EventEffect = 'message' | 'line' | 'both';

export const EVENT_EFFECTS: Record<EventKind, EventEffect> = {
  'message.created': 'message',
  'message.edited': 'message',
  'message.deleted': 'message',
  'reaction.added': 'message',
  'reaction.removed': 'message',
  // The pinned marker on the message, and a line saying who pinned it.
  'message.pinned': 'both',
  'message.unpinned': 'both',
  'file.added': 'line',
  'file.deleted': 'line',
  'member.added': 'line',
  'member.removed': 'line',
  'member.role_changed': 'line',
  'ownership.transferred': 'line',
  'room.updated': 'line',
  'room.status_changed': 'line',
  'room.acknowledged': 'line',
  'room.contained': 'line',
  'report.created': 'line',
  'room.escalated': 'line',
  'room.deleted': 'line',
};

/** Whether an event of `kind` shows as a line (unknown kinds do not). */
export function isLine(kind: string): boolean {
  const effect = (EVENT_EFFECTS as Record<string, EventEffect | undefined>)[kind];
  return effect === 'line' || effect === 'both';
}

type T = (key: Key, vars?: Record<string, string | number>) => string;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The room fields a `room.updated` may name, with their labels. */
const FIELD_KEYS: Record<string, Key> = {
  title: 'sys.field.title',
  severity: 'sys.field.severity',
  incident_type: 'sys.field.incident_type',
  location: 'sys.field.location',
  line: 'sys.field.line',
  equipment: 'sys.field.equipment',
  description: 'sys.field.description',
  lots: 'sys.field.lots',
  resolution_notes: 'sys.field.resolution_notes',
};

/**
 * The text of the line of a non-message event, in the language of `t`. `nameOf`
 * gives a member's display name for their e-mail (the e-mail when unknown).
 * Reports and escalations have their own richer lines; this text is theirs too
 * when shown plainly.
 */
export function systemLineText(e: Pick<RoomEvent, 'kind' | 'actor' | 'data'>, t: T, nameOf: (id: string) => string): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const actor = nameOf(e.actor);
  const who = nameOf(str(d.user_id));
  const role = (r: unknown) => (r === 'owner' || r === 'editor' || r === 'viewer' ? t(`role.${r}`) : str(r));
  switch (e.kind as EventKind) {
    case 'member.added':
      if (e.actor === 'routing' && d.rule) return t('sys.member.routed', { rule: str(d.rule), who, role: role(d.role) });
      if (d.joined || str(d.user_id) === e.actor) return t('sys.member.joined', { who, role: role(d.role) });
      return t('sys.member.added', { actor, who, role: role(d.role) });
    case 'member.removed':
      return d.left || str(d.user_id) === e.actor ? t('sys.member.left', { who }) : t('sys.member.removed', { actor, who });
    case 'member.role_changed':
      return t('sys.member.role', { actor, who, role: role(d.to) });
    case 'ownership.transferred':
      return t('sys.ownership', { actor, who: nameOf(str(d.to)) });
    case 'room.updated': {
      const changed = Array.isArray(d.changed) ? d.changed.map(str) : [];
      const room = (d.room ?? {}) as Record<string, unknown>;
      if (changed.length === 1 && changed[0] === 'severity' && typeof room.severity === 'string') {
        return t('sys.room.severity', { actor, severity: t(`sev.${room.severity}` as Key) });
      }
      const fields = changed.map((f) => (FIELD_KEYS[f] ? t(FIELD_KEYS[f]) : f)).join(t('sys.listSep'));
      return t('sys.room.updated', { actor, fields: fields || t('sys.field.details') });
    }
    case 'room.status_changed': {
      const to = str(d.to);
      if (to === 'resolved') return t('sys.status.resolved', { actor });
      if (to === 'archived') return t('sys.status.archived', { actor });
      if (to === 'active') return t('sys.status.reopened', { actor });
      return t('sys.status.other', { actor, status: to });
    }
    case 'room.acknowledged':
      return t('sys.acknowledged', { actor: d.by ? nameOf(str(d.by)) : actor });
    case 'room.contained':
      return t('sys.contained', { actor: d.by ? nameOf(str(d.by)) : actor });
    case 'file.added': {
      const file = (d.file ?? {}) as Record<string, unknown>;
      return t('sys.file.added', { actor, name: str(file.name) || t('sys.file.unnamed') });
    }
    case 'file.deleted':
      return t('sys.file.deleted', { actor });
    case 'message.pinned':
      return t('sys.pinned', { actor });
    case 'message.unpinned':
      return d.deleted ? t('sys.unpinned.deleted') : t('sys.unpinned', { actor });
    case 'report.created':
      return t('sys.report', { actor });
    case 'room.escalated': {
      const notify = Array.isArray(d.notify) ? d.notify.map((u) => nameOf(str(u))) : [];
      return t('escalated.line', { n: typeof d.level === 'number' ? d.level : '?', who: notify.join(t('sys.listSep')) });
    }
    case 'room.deleted':
      return t('sys.room.deleted', { actor });
    default:
      return t('sys.unknown', { kind: e.kind });
  }
}
