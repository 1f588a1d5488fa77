import { describe, expect, it } from 'vitest';
import type { Template } from '../api/types';
import { buildTemplateBody, emptyDraft, templateProblem, templateToDraft, type TemplateDraft } from './templates';

const draft = (over: Partial<TemplateDraft> = {}): TemplateDraft => ({ ...emptyDraft(), ...over });

describe('template form to request body', () => {
  it('trims the name, drops empty member rows and lower-cases e-mails', () => {
    const body = buildTemplateBody(draft({
      name: '  Press jam  ',
      incident_type: 'quality_issue',
      default_severity: 'high',
      default_description: 'Stop the line\n',
      members: [
        { email: ' Wang@Andon.test ', role: 'editor' },
        { email: '   ', role: 'viewer' },
        { email: 'chen@andon.test', role: 'viewer' },
      ],
    }));
    expect(body).toEqual({
      name: 'Press jam',
      incident_type: 'quality_issue',
      default_severity: 'high',
      default_description: 'Stop the line\n',
      default_members: [
        { user_id: 'wang@andon.test', role: 'editor' },
        { user_id: 'chen@andon.test', role: 'viewer' },
      ],
    });
  });

  it('sends an empty member list (to clear it) and keeps duplicates for the server to refuse', () => {
    expect(buildTemplateBody(draft({ name: 'x' })).default_members).toEqual([]);
    const twice = buildTemplateBody(draft({ name: 'x', members: [{ email: 'a@b', role: 'editor' }, { email: 'A@B', role: 'viewer' }] }));
    expect(twice.default_members).toHaveLength(2);
  });

  it('reads a stored template back into the form', () => {
    const t: Template = {
      id: '1', name: 'Jam', incident_type: 'other', default_severity: 'low', default_description: null,
      default_members: [{ user_id: 'a@b', role: 'viewer' }, { user_id: 'c@d', role: 'editor' }],
    };
    const d = templateToDraft(t);
    expect(d).toEqual({
      name: 'Jam', incident_type: 'other', default_severity: 'low', default_description: '',
      members: [{ email: 'a@b', role: 'viewer' }, { email: 'c@d', role: 'editor' }],
    });
    expect(buildTemplateBody(d).default_members).toEqual(t.default_members);
  });
});

describe('server refusals mapped to a field', () => {
  const d = draft({ name: 'n', members: [{ email: 'ok@x', role: 'editor' }, { email: 'Not-An-Email', role: 'editor' }, { email: 'ok@x', role: 'viewer' }] });
  const v = (msg: string) => templateProblem(400, 'validation_failed', msg, d);

  it('a taken name is the name field (409 conflict)', () => {
    expect(templateProblem(409, 'conflict', 'A template named `n` already exists', d)).toEqual({ field: 'name', kind: 'taken' });
  });

  it('name, type, severity and description messages', () => {
    expect(v('name is required')).toEqual({ field: 'name', kind: 'required' });
    expect(v('name must be 1 to 100 characters')).toEqual({ field: 'name', kind: 'length' });
    expect(v('name must not contain control characters')).toEqual({ field: 'name', kind: 'control' });
    expect(v('incident_type: `fire` is not one of: equipment_failure, other')).toEqual({ field: 'incident_type', kind: 'invalid' });
    expect(v('incident_type is required')).toEqual({ field: 'incident_type', kind: 'invalid' });
    expect(v('default_severity: `x` is not one of: low')).toEqual({ field: 'default_severity', kind: 'invalid' });
    expect(v('default_description must be at most 10000 characters')).toEqual({ field: 'default_description', kind: 'length' });
    expect(v('default_description must not contain control characters')).toEqual({ field: 'default_description', kind: 'control' });
  });

  it('member messages point at the row they are about', () => {
    expect(v('default_members: `Not-An-Email` is not an e-mail address')).toEqual({ field: 'default_members', kind: 'email', row: 1, value: 'Not-An-Email' });
    // The second of two equal e-mails is the one to take out.
    expect(v('default_members: ok@x is listed twice')).toEqual({ field: 'default_members', kind: 'twice', row: 2, value: 'ok@x' });
    expect(v('default_members: role `owner` must be editor or viewer (the creator owns the room)'))
      .toEqual({ field: 'default_members', kind: 'role', row: null, value: 'owner' });
    expect(v('default_members: at most 200 people')).toEqual({ field: 'default_members', kind: 'tooMany' });
    // An e-mail the form does not have (changed since): the list as a whole.
    expect(v('default_members: `gone@x y` is not an e-mail address')).toMatchObject({ kind: 'email', row: null });
  });

  it('anything else is not tied to a field', () => {
    expect(v('Json deserialize error: unknown field `x`')).toEqual({ field: null, kind: 'other' });
    expect(templateProblem(403, 'forbidden', 'Only system administrators manage templates', d)).toEqual({ field: null, kind: 'other' });
    expect(templateProblem(404, 'not_found', 'Template not found', d)).toEqual({ field: null, kind: 'other' });
  });
});
