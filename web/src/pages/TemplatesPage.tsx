// Room templates (system administrators): the list, a form to create or edit one
// (its default members as e-mails with a role), and deletion after confirming.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '../api/http';
import { INCIDENT_TYPES, SEVERITIES, type IncidentType, type Severity, type Template } from '../api/types';
import { Dialog } from '../components/Dialog';
import { formatTime, useLang, useT, type Key } from '../i18n';
import { useSession } from '../stores/session';
import {
  buildTemplateBody, DESCRIPTION_MAX, emptyDraft, MEMBERS_MAX, NAME_MAX, templateProblem, templateToDraft,
  type MemberRole, type TemplateDraft, type TemplateProblem,
} from '../stores/templates';

type Templates = { templates: (Template & { updated_at?: string })[] };
const KEY = ['templates'];
/** What the page last did, said in the language shown now. */
type Done = { kind: 'created' | 'saved' | 'deleted'; name: string };

export function TemplatesPage() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const isAdmin = useSession((s) => !!s.user?.is_admin);
  const q = useQuery({ queryKey: KEY, queryFn: () => api<Templates>('GET', '/api/templates'), enabled: isAdmin });
  const [editing, setEditing] = useState<Template | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Template | null>(null);
  const [done, setDone] = useState<Done | null>(null);

  if (!isAdmin) {
    return (
      <div className="empty-state" data-testid="templates-forbidden">
        <h1>{t('tpl.title')}</h1>
        <p className="notice warn" role="alert">{t('tpl.adminOnly')}</p>
      </div>
    );
  }
  const list = q.data?.templates ?? [];
  return (
    <div className="page tpl-page">
      <div className="page-head">
        <h1>{t('tpl.title')}</h1>
        <button className="btn primary" data-testid="tpl-new" onClick={() => { setDone(null); setEditing('new'); }}>＋ {t('tpl.new')}</button>
      </div>
      <p className="muted tpl-intro">{t('tpl.intro')}</p>
      {q.error && <div className="notice error" role="alert">{t('tpl.loadFailed', { msg: (q.error as ApiError).message })}</div>}
      {q.isPending && <p className="muted">…</p>}
      {done && (
        <div className="notice ok" role="status" data-testid="tpl-done">
          {t(`tpl.${done.kind}`, { name: done.name })}
        </div>
      )}
      {q.data && list.length === 0 && <div className="empty-state"><p>{t('tpl.empty')}</p></div>}
      <ul className="tpl-list">
        {list.map((x) => (
          <li key={x.id} className={`tpl-card sev-edge-${x.default_severity}`} data-testid="template">
            <div className="tpl-card-main">
              <div className="tpl-name">{x.name}</div>
              <div className="room-card-meta">
                <span className={`badge sev-${x.default_severity}`}>{t(`sev.${x.default_severity}`)}</span>
                <span className="type-label">{t(`type.${x.incident_type}`)}</span>
                <span className="chip" data-testid="tpl-member-count">
                  {x.default_members.length ? t('tpl.members', { n: x.default_members.length }) : t('tpl.noMembers')}
                </span>
              </div>
              {x.default_members.length > 0 && (
                <div className="tpl-members muted">
                  {x.default_members.map((m) => `${m.user_id} (${t(`role.${m.role}`)})`).join(', ')}
                </div>
              )}
              {x.updated_at && <small className="muted">{t('tpl.updatedAt', { at: formatTime(x.updated_at, lang) })}</small>}
            </div>
            <div className="tpl-card-actions">
              <button className="btn" data-testid="tpl-edit" aria-label={t('tpl.editNamed', { name: x.name })}
                onClick={() => { setDone(null); setEditing(x); }}>{t('tpl.edit')}</button>
              <button className="btn ghost danger-text" data-testid="tpl-delete" aria-label={t('tpl.deleteNamed', { name: x.name })}
                onClick={() => { setDone(null); setDeleting(x); }}>{t('tpl.delete')}</button>
            </div>
          </li>
        ))}
      </ul>
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={t(editing === 'new' ? 'tpl.createTitle' : 'tpl.editTitle')}>
        {editing !== null && (
          <TemplateForm
            key={editing === 'new' ? 'new' : editing.id}
            template={editing === 'new' ? null : editing}
            onCancel={() => setEditing(null)}
            onDone={(d) => { setEditing(null); setDone(d); }}
          />
        )}
      </Dialog>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)} title={t('tpl.deleteConfirm')}>
        {deleting && <DeleteTemplate template={deleting} onCancel={() => setDeleting(null)} onDone={(d) => { setDeleting(null); setDone(d); }} />}
      </Dialog>
    </div>
  );
}

type FormError = { problem: TemplateProblem; server: string } | { problem: null; server: string };

function problemText(t: ReturnType<typeof useT>, p: TemplateProblem): string {
  if (p.field === null) return t('tpl.err.other');
  if (p.field === 'default_members') {
    if (p.kind === 'tooMany') return t('tpl.err.members.tooMany');
    return t(`tpl.err.members.${p.kind}` as Key, { v: p.value });
  }
  return t(`tpl.err.${p.field}.${p.kind}` as Key);
}

function TemplateForm({ template, onCancel, onDone }: {
  template: Template | null;
  onCancel: () => void;
  onDone: (d: Done) => void;
}) {
  const t = useT();
  const qc = useQueryClient();
  const [d, setD] = useState<TemplateDraft>(() => (template ? templateToDraft(template) : emptyDraft()));
  const [error, setError] = useState<FormError | null>(null);
  const save = useMutation({
    mutationFn: (draft: TemplateDraft) => {
      const body = buildTemplateBody(draft);
      return template
        ? api<Template>('PATCH', `/api/templates/${template.id}`, body)
        : api<Template>('POST', '/api/templates', body);
    },
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: KEY });
      onDone({ kind: template ? 'saved' : 'created', name: saved.name });
    },
    onError: (e: unknown, draft) => {
      if (e instanceof ApiError && e.status > 0) setError({ problem: templateProblem(e.status, e.code, e.message, draft), server: e.message });
      else setError({ problem: null, server: e instanceof Error ? e.message : String(e) });
    },
  });
  const edit = (f: (d: TemplateDraft) => TemplateDraft) => {
    setD(f);
    setError(null);
  };
  const setMember = (i: number, m: Partial<{ email: string; role: MemberRole }>) =>
    edit((x) => ({ ...x, members: x.members.map((y, j) => (j === i ? { ...y, ...m } : y)) }));

  const p = error?.problem ?? null;
  const fieldError = (f: TemplateProblem['field']) => (p && p.field === f ? problemText(t, p) : null);
  const memberRow = p && p.field === 'default_members' && 'row' in p ? p.row : null;
  const membersError = p && p.field === 'default_members' && memberRow === null ? problemText(t, p) : null;
  const errNode = (id: string, text: string | null) =>
    text && <small className="field-error" id={id} role="alert" data-testid={`${id}`}>{text}</small>;

  return (
    <form className="form tpl-form" noValidate data-testid="tpl-form"
      onSubmit={(e) => { e.preventDefault(); setError(null); save.mutate(d); }}>
      <h2>{t(template ? 'tpl.editTitle' : 'tpl.createTitle')}</h2>
      <div className="field">
        <label htmlFor="tpl-name">{t('tpl.name')}</label>
        <input id="tpl-name" name="name" maxLength={NAME_MAX} autoComplete="off" value={d.name} autoFocus
          aria-invalid={!!fieldError('name') || undefined} aria-describedby={fieldError('name') ? 'tpl-name-error' : undefined}
          onChange={(e) => edit((x) => ({ ...x, name: e.target.value }))} />
        {errNode('tpl-name-error', fieldError('name'))}
      </div>
      <div className="row2">
        <div className="field">
          <label htmlFor="tpl-type">{t('tpl.type')}</label>
          <select id="tpl-type" name="incident_type" value={d.incident_type} aria-invalid={!!fieldError('incident_type') || undefined}
            onChange={(e) => edit((x) => ({ ...x, incident_type: e.target.value as IncidentType }))}>
            {INCIDENT_TYPES.map((x) => <option key={x} value={x}>{t(`type.${x}`)}</option>)}
          </select>
          {errNode('tpl-type-error', fieldError('incident_type'))}
        </div>
        <div className="field">
          <label htmlFor="tpl-severity">{t('tpl.severity')}</label>
          <select id="tpl-severity" name="default_severity" value={d.default_severity} aria-invalid={!!fieldError('default_severity') || undefined}
            onChange={(e) => edit((x) => ({ ...x, default_severity: e.target.value as Severity }))}>
            {SEVERITIES.map((x) => <option key={x} value={x}>{t(`sev.${x}`)}</option>)}
          </select>
          {errNode('tpl-severity-error', fieldError('default_severity'))}
        </div>
      </div>
      <div className="field">
        <label htmlFor="tpl-description">{t('tpl.description')}</label>
        <textarea id="tpl-description" name="default_description" rows={4} maxLength={DESCRIPTION_MAX} value={d.default_description}
          aria-invalid={!!fieldError('default_description') || undefined}
          onChange={(e) => edit((x) => ({ ...x, default_description: e.target.value }))} />
        {errNode('tpl-description-error', fieldError('default_description'))}
      </div>
      <fieldset className="field tpl-members-field" aria-describedby="tpl-members-hint" aria-invalid={!!membersError || undefined}>
        <legend>{t('tpl.membersLabel')}</legend>
        <small className="muted" id="tpl-members-hint">{t('tpl.membersHint')}</small>
        <ol className="tpl-member-rows">
          {d.members.map((m, i) => (
            <li key={i} className={memberRow === i ? 'tpl-member invalid' : 'tpl-member'} data-testid="tpl-member">
              <div className="tpl-member-inputs">
                <input type="email" inputMode="email" name="member-email" autoComplete="off" spellCheck={false} value={m.email}
                  aria-label={t('tpl.memberEmail', { n: i + 1 })} aria-invalid={memberRow === i || undefined}
                  aria-describedby={memberRow === i ? 'tpl-member-error' : undefined}
                  onChange={(e) => setMember(i, { email: e.target.value })} />
                <select name="member-role" value={m.role} aria-label={t('tpl.memberRole', { n: i + 1 })}
                  onChange={(e) => setMember(i, { role: e.target.value as MemberRole })}>
                  <option value="editor">{t('role.editor')}</option>
                  <option value="viewer">{t('role.viewer')}</option>
                </select>
                <button type="button" className="btn ghost" aria-label={t('tpl.removeMember', { n: i + 1 })}
                  onClick={() => edit((x) => ({ ...x, members: x.members.filter((_, j) => j !== i) }))}>✕</button>
              </div>
              {memberRow === i && p && errNode('tpl-member-error', problemText(t, p))}
            </li>
          ))}
        </ol>
        {errNode('tpl-members-error', membersError)}
        <div>
          <button type="button" className="btn" data-testid="tpl-add-member" disabled={d.members.length >= MEMBERS_MAX}
            onClick={() => edit((x) => ({ ...x, members: [...x.members, { email: '', role: 'editor' }] }))}>＋ {t('tpl.addMember')}</button>
        </div>
      </fieldset>
      {error && !error.problem && (
        <div className="notice error" role="alert" data-testid="tpl-error">{t('tpl.failed', { msg: error.server })}</div>
      )}
      {error?.problem && error.problem.field === null && (
        <div className="notice error" role="alert" data-testid="tpl-error">
          <div>{t('tpl.err.other')}</div>
          <div className="ladder-server-msg">{t('tpl.serverSaid', { msg: error.server })}</div>
        </div>
      )}
      <div className="actions">
        <button type="button" className="btn ghost" onClick={onCancel}>{t('tpl.cancel')}</button>
        <button type="submit" className="btn primary" data-testid="tpl-save" disabled={save.isPending}>
          {save.isPending ? t('tpl.saving') : t(template ? 'tpl.save' : 'tpl.create')}
        </button>
      </div>
    </form>
  );
}

function DeleteTemplate({ template, onCancel, onDone }: { template: Template; onCancel: () => void; onDone: (d: Done) => void }) {
  const t = useT();
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: () => api<void>('DELETE', `/api/templates/${template.id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: KEY });
      onDone({ kind: 'deleted', name: template.name });
    },
  });
  return (
    <div className="form" data-testid="tpl-delete-dialog">
      <h2>{t('tpl.deleteConfirm')}</h2>
      <p>{t('tpl.confirmDelete', { name: template.name })}</p>
      {del.error && <div className="notice error" role="alert">{t('tpl.deleteFailed', { msg: (del.error as ApiError).message })}</div>}
      <div className="actions">
        <button type="button" className="btn ghost" onClick={onCancel} autoFocus>{t('tpl.cancel')}</button>
        <button type="button" className="btn danger" data-testid="tpl-delete-confirm" disabled={del.isPending} onClick={() => del.mutate()}>
          {t('tpl.deleteConfirm')}
        </button>
      </div>
    </div>
  );
}
