// The routing rules (system administrators): which people a new or re-graded room
// pulls in at once, by incident type, severity, location and line.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES, type RoutingRule } from '../api/types';
import { SeverityBadge } from '../components/Badges';
import { Dialog } from '../components/Dialog';
import { formatTime, useLang, useT } from '../i18n';
import { buildRuleBody, emptyDraft, ruleConditions, ruleProblem, ruleToDraft, type RuleDraft, type RuleProblem } from '../stores/routing';
import { useSession } from '../stores/session';

type Rules = { rules: RoutingRule[] };
const KEY = ['routing-rules'];
/** Which form is open: a new rule, or the rule being edited. */
type Editing = { kind: 'new' } | { kind: 'edit'; rule: RoutingRule } | null;

export function RoutingPage() {
  const t = useT();
  const isAdmin = useSession((s) => !!s.user?.is_admin);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<RoutingRule | null>(null);
  const q = useQuery({
    queryKey: KEY,
    queryFn: () => api<Rules>('GET', '/api/routing-rules'),
    enabled: isAdmin,
  });
  const forbidden = !isAdmin || (q.error instanceof ApiError && q.error.status === 403);
  if (forbidden) {
    return (
      <div className="empty-state" data-testid="routing-forbidden">
        <h1>{t('route.title')}</h1>
        <p className="notice warn" role="alert">{t('route.adminOnly')}</p>
      </div>
    );
  }
  const rules = q.data?.rules ?? [];
  return (
    <div className="page ladder-page routing-page">
      <div className="page-head">
        <h1>{t('route.title')}</h1>
        {editing?.kind !== 'new' && (
          <button className="btn primary" data-testid="rule-new" onClick={() => setEditing({ kind: 'new' })}>+ {t('route.new')}</button>
        )}
      </div>
      <p className="muted ladder-intro">{t('route.intro')}</p>
      {q.error && <div className="notice error" role="alert">{t('route.loadFailed', { msg: (q.error as ApiError).message })}</div>}
      {q.isPending && <p className="muted">…</p>}
      {editing?.kind === 'new' && <RuleForm onDone={() => setEditing(null)} />}
      {q.isSuccess && rules.length === 0 && editing?.kind !== 'new' && (
        <p className="muted" data-testid="rules-empty">{t('route.none')}</p>
      )}
      <ul className="rules" data-testid="rules">
        {rules.map((r) =>
          editing?.kind === 'edit' && editing.rule.id === r.id ? (
            <li key={r.id}><RuleForm rule={r} onDone={() => setEditing(null)} /></li>
          ) : (
            <li key={r.id}>
              <RuleCard rule={r} onEdit={() => setEditing({ kind: 'edit', rule: r })} onDelete={() => setDeleting(r)} />
            </li>
          ),
        )}
      </ul>
      <DeleteRule rule={deleting} onClose={() => setDeleting(null)} />
    </div>
  );
}

function RuleCard({ rule, onEdit, onDelete }: { rule: RoutingRule; onEdit: () => void; onDelete: () => void }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const conditions = ruleConditions(rule);
  return (
    <section className={`ladder rule ${rule.severity ? `sev-edge-${rule.severity}` : 'sev-edge-any'}`} data-testid="rule" aria-label={rule.name}>
      <div className="ladder-head">
        <h2 className="rule-name">{rule.name}</h2>
        <div className="rule-actions">
          <button className="btn small" onClick={onEdit} aria-label={t('route.editNamed', { name: rule.name })}>{t('route.edit')}</button>
          <button className="btn small danger" onClick={onDelete} aria-label={t('route.deleteNamed', { name: rule.name })}>{t('route.delete')}</button>
        </div>
      </div>
      <div className="rule-when" data-testid="rule-when">
        <span className="muted">{t('route.when')}</span>
        {conditions.length === 0 && <span className="chip">{t('route.every')}</span>}
        {conditions.map((c) =>
          c.kind === 'severity' ? (
            <SeverityBadge key={c.kind} severity={c.value} />
          ) : (
            <span key={c.kind} className="chip">
              {c.kind === 'type' ? t(`type.${c.value}`) : `${t(`route.${c.kind}`)}: ${c.value}`}
            </span>
          ),
        )}
      </div>
      <div className="rule-who" data-testid="rule-who">
        <span className="muted">{t('route.adds')}</span>
        {rule.members.map((m) => (
          <span key={m.user_id} className="chip">{m.user_id} · {t(`role.${m.role}`)}</span>
        ))}
      </div>
      <div className="muted ladder-updated">{t('route.updated', { at: formatTime(rule.updated_at, lang) })}</div>
    </section>
  );
}

function RuleForm({ rule, onDone }: { rule?: RoutingRule; onDone: () => void }) {
  const t = useT();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<RuleDraft>(() => (rule ? ruleToDraft(rule) : emptyDraft));
  const [problem, setProblem] = useState<{ p: RuleProblem; server: string } | null>(null);
  const save = useMutation({
    mutationFn: (body: ReturnType<typeof buildRuleBody>) =>
      rule ? api<RoutingRule>('PATCH', `/api/routing-rules/${rule.id}`, body) : api<RoutingRule>('POST', '/api/routing-rules', body),
    onSuccess: (saved) => {
      qc.setQueryData<Rules>(KEY, (old) => {
        const rest = (old?.rules ?? []).filter((r) => r.id !== saved.id);
        return { rules: [...rest, saved].sort((a, b) => a.name.localeCompare(b.name)) };
      });
      onDone();
    },
    onError: (e: ApiError) => setProblem({ p: ruleProblem(e.code, e.message), server: e.message }),
  });
  const set = <K extends keyof RuleDraft>(k: K, v: RuleDraft[K]) => {
    setDraft((d) => ({ ...d, [k]: v }));
    setProblem(null);
  };
  const submit = (ev: React.FormEvent) => {
    ev.preventDefault();
    setProblem(null);
    save.mutate(buildRuleBody(draft));
  };
  const id = (f: string) => `rule-${rule?.id ?? 'new'}-${f}`;
  const bad = problem?.p.field ?? null;
  const message = problem && t(`route.err.${problem.p.kind}`);
  const errorFor = (field: string) =>
    bad === field ? <small className="field-error" role="alert" data-testid="rule-error">{message}</small> : null;
  return (
    <section className="ladder rule-form" data-testid="rule-form" aria-label={rule ? t('route.editNamed', { name: rule.name }) : t('route.new')}>
      <h2>{rule ? t('route.editNamed', { name: rule.name }) : t('route.new')}</h2>
      <form onSubmit={submit} noValidate>
        <label className="field" htmlFor={id('name')}>
          <span>{t('route.name')}</span>
          <input id={id('name')} name="name" value={draft.name} maxLength={100} autoComplete="off" required
            aria-invalid={bad === 'name' || undefined} onChange={(e) => set('name', e.target.value)} />
          {errorFor('name')}
        </label>
        <fieldset className="rule-match">
          <legend>{t('route.matches')}</legend>
          <p className="muted rule-hint">{t('route.matchesHint')}</p>
          <div className="rule-grid">
            <label className="field" htmlFor={id('type')}>
              <span>{t('rooms.type')}</span>
              <select id={id('type')} value={draft.incident_type} onChange={(e) => set('incident_type', e.target.value as RuleDraft['incident_type'])}>
                <option value="">{t('route.any')}</option>
                {INCIDENT_TYPES.map((x) => <option key={x} value={x}>{t(`type.${x}`)}</option>)}
              </select>
            </label>
            <label className="field" htmlFor={id('severity')}>
              <span>{t('rooms.severity')}</span>
              <select id={id('severity')} value={draft.severity} onChange={(e) => set('severity', e.target.value as RuleDraft['severity'])}>
                <option value="">{t('route.any')}</option>
                {SEVERITIES.map((x) => <option key={x} value={x}>{t(`sev.${x}`)}</option>)}
              </select>
            </label>
            <label className="field" htmlFor={id('location')}>
              <span>{t('route.location')}</span>
              <input id={id('location')} value={draft.location} maxLength={100} placeholder={t('route.any')} autoComplete="off"
                aria-invalid={bad === 'location' || undefined} onChange={(e) => set('location', e.target.value)} />
              {errorFor('location')}
            </label>
            <label className="field" htmlFor={id('line')}>
              <span>{t('route.line')}</span>
              <input id={id('line')} value={draft.line} maxLength={100} placeholder={t('route.any')} autoComplete="off"
                aria-invalid={bad === 'line' || undefined} onChange={(e) => set('line', e.target.value)} />
              {errorFor('line')}
            </label>
          </div>
        </fieldset>
        <div className="rule-grid two">
          <label className="field" htmlFor={id('editors')}>
            <span>{t('route.editors')}</span>
            <textarea id={id('editors')} rows={3} spellCheck={false} autoComplete="off" value={draft.editors}
              aria-invalid={bad === 'members' || undefined} aria-describedby={id('people-hint')} onChange={(e) => set('editors', e.target.value)} />
          </label>
          <label className="field" htmlFor={id('viewers')}>
            <span>{t('route.viewers')}</span>
            <textarea id={id('viewers')} rows={3} spellCheck={false} autoComplete="off" value={draft.viewers}
              aria-invalid={bad === 'members' || undefined} aria-describedby={id('people-hint')} onChange={(e) => set('viewers', e.target.value)} />
          </label>
        </div>
        <small className="muted" id={id('people-hint')}>{t('route.peopleHint')}</small>
        {errorFor('members')}
        {problem && problem.p.field === null && (
          <div className="notice error" role="alert" data-testid="rule-error">{message}</div>
        )}
        {problem && <div className="ladder-server-msg muted">{t('esc.serverSaid', { msg: problem.server })}</div>}
        <div className="ladder-actions">
          <button type="button" className="btn" onClick={onDone}>{t('route.cancel')}</button>
          <button type="submit" className="btn primary" disabled={save.isPending}>{save.isPending ? t('esc.saving') : t('esc.save')}</button>
        </div>
      </form>
    </section>
  );
}

function DeleteRule({ rule, onClose }: { rule: RoutingRule | null; onClose: () => void }) {
  const t = useT();
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: (r: RoutingRule) => api<void>('DELETE', `/api/routing-rules/${r.id}`),
    onSuccess: (_, r) => {
      qc.setQueryData<Rules>(KEY, (old) => old && { rules: old.rules.filter((x) => x.id !== r.id) });
      onClose();
    },
  });
  return (
    <Dialog open={!!rule} onClose={onClose} title={t('route.deleteTitle')}>
      {rule && (
        <div className="dialog-body" data-testid="rule-delete-dialog">
          <h2>{t('route.deleteTitle')}</h2>
          <p>{t('route.deleteBody', { name: rule.name })}</p>
          {del.error && <div className="notice error" role="alert">{t('esc.failed', { msg: (del.error as ApiError).message })}</div>}
          <div className="dialog-actions">
            <button className="btn" onClick={onClose}>{t('route.cancel')}</button>
            <button className="btn danger" data-testid="rule-delete-confirm" disabled={del.isPending} onClick={() => del.mutate(rule)}>
              {t('route.delete')}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
