import { describe, expect, it } from 'vitest';
import type { RoutingRule } from '../api/types';
import { buildRuleBody, emptyDraft, ruleConditions, ruleProblem, ruleToDraft } from './routing';

const rule: RoutingRule = {
  id: 'r1',
  name: '三號線停機',
  incident_type: 'equipment_failure',
  severity: null,
  location: 'Plant 1',
  line: null,
  members: [
    { user_id: 'wang@andon.test', role: 'editor' },
    { user_id: 'chen@andon.test', role: 'viewer' },
    { user_id: 'lin@andon.test', role: 'editor' },
  ],
  created_by: 'admin@andon.test',
  created_at: '2026-11-30T00:00:00Z',
  updated_at: '2026-11-30T00:00:00Z',
};

describe('the rule form', () => {
  it('edits a rule as "any" for missing conditions and one e-mail a line per role', () => {
    expect(ruleToDraft(rule)).toEqual({
      name: '三號線停機',
      incident_type: 'equipment_failure',
      severity: '',
      location: 'Plant 1',
      line: '',
      editors: 'wang@andon.test\nlin@andon.test',
      viewers: 'chen@andon.test',
    });
  });

  it('round-trips a rule through the form', () => {
    const body = buildRuleBody(ruleToDraft(rule));
    expect(body).toEqual({
      name: '三號線停機',
      incident_type: 'equipment_failure',
      severity: null,
      location: 'Plant 1',
      line: null,
      members: [
        { user_id: 'wang@andon.test', role: 'editor' },
        { user_id: 'lin@andon.test', role: 'editor' },
        { user_id: 'chen@andon.test', role: 'viewer' },
      ],
    });
  });

  it('sends blank conditions as null, trims, lower-cases e-mails, and makes someone in both lists an editor once', () => {
    expect(buildRuleBody({
      ...emptyDraft,
      name: '  Critical anywhere ',
      severity: 'critical',
      location: '   ',
      line: ' L3 ',
      editors: 'Wang@andon.test, chen@andon.test',
      viewers: 'chen@andon.test\nmaria@andon.test',
    })).toEqual({
      name: 'Critical anywhere',
      incident_type: null,
      severity: 'critical',
      location: null,
      line: 'L3',
      members: [
        { user_id: 'wang@andon.test', role: 'editor' },
        { user_id: 'chen@andon.test', role: 'editor' },
        { user_id: 'maria@andon.test', role: 'viewer' },
      ],
    });
  });

  it('summarises what a rule matches, and nothing for a rule that matches every room', () => {
    expect(ruleConditions(rule)).toEqual([
      { kind: 'type', value: 'equipment_failure' },
      { kind: 'location', value: 'Plant 1' },
    ]);
    expect(ruleConditions({ incident_type: null, severity: null, location: null, line: null })).toEqual([]);
  });
});

describe('the server\'s refusals', () => {
  it('places each message next to its field', () => {
    expect(ruleProblem('conflict', 'A routing rule named `x` already exists')).toEqual({ field: 'name', kind: 'nameTaken' });
    expect(ruleProblem('validation_failed', 'name must be 1 to 100 characters')).toEqual({ field: 'name', kind: 'nameLength' });
    expect(ruleProblem('validation_failed', 'line must be at most 100 characters')).toEqual({ field: 'line', kind: 'lineLength' });
    expect(ruleProblem('validation_failed', 'location must be at most 100 characters')).toEqual({ field: 'location', kind: 'locationLength' });
    expect(ruleProblem('validation_failed', 'members: a rule adds at least one person')).toEqual({ field: 'members', kind: 'membersNone' });
    expect(ruleProblem('validation_failed', 'members: `bob` is not an e-mail address')).toEqual({ field: 'members', kind: 'membersEmail' });
    expect(ruleProblem('validation_failed', 'members: at most 200 people')).toEqual({ field: 'members', kind: 'membersTooMany' });
    expect(ruleProblem('validation_failed', 'members: a@x.test is listed twice')).toEqual({ field: 'members', kind: 'membersTwice' });
    expect(ruleProblem('validation_failed', 'something new')).toEqual({ field: null, kind: 'other' });
  });
});
