// The escalation ladders (system administrators): per severity, the levels an
// unacknowledged room climbs, each with its delay and the people it notifies.

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '../api/http';
import type { EscalationPolicy } from '../api/types';
import { formatTime, useLang, useT } from '../i18n';
import { buildPutBody, LADDER_ORDER, ladderProblem, levelToDraft, type LadderProblem, type LevelDraft } from '../stores/escalation';
import { useSession } from '../stores/session';

type Policies = { policies: EscalationPolicy[] };
/** Why the last save did not happen; kept as data so it is said in the language shown now. */
type FormError =
  | { kind: 'badMinutes'; level: number }
  | { kind: 'refused'; problem: LadderProblem; server: string }
  | { kind: 'failed'; server: string };

function errorLevel(e: FormError | null): number | null {
  if (!e || e.kind === 'failed') return null;
  if (e.kind === 'badMinutes') return e.level;
  return 'level' in e.problem ? e.problem.level : null;
}
const KEY = ['escalation-policies'];

export function EscalationPage() {
  const t = useT();
  const isAdmin = useSession((s) => !!s.user?.is_admin);
  const q = useQuery({
    queryKey: KEY,
    queryFn: () => api<Policies>('GET', '/api/escalation-policies'),
    enabled: isAdmin,
  });
  const forbidden = !isAdmin || (q.error instanceof ApiError && q.error.status === 403);
  if (forbidden) {
    return (
      <div className="empty-state" data-testid="escalation-forbidden">
        <h1>{t('esc.title')}</h1>
        <p className="notice warn" role="alert">{t('esc.adminOnly')}</p>
      </div>
    );
  }
  const bySeverity = new Map((q.data?.policies ?? []).map((p) => [p.severity, p]));
  return (
    <div className="page ladder-page">
      <div className="page-head">
        <h1>{t('esc.title')}</h1>
      </div>
      <p className="muted ladder-intro">{t('esc.intro')}</p>
      {q.error && <div className="notice error" role="alert">{t('esc.loadFailed', { msg: (q.error as ApiError).message })}</div>}
      {q.isPending && <p className="muted">…</p>}
      {LADDER_ORDER.map((sev) => {
        const p = bySeverity.get(sev);
        return p ? <LadderForm key={sev} policy={p} /> : null;
      })}
    </div>
  );
}

function LadderForm({ policy }: { policy: EscalationPolicy }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const qc = useQueryClient();
  const [saved, setSaved] = useState(policy);
  const [drafts, setDrafts] = useState<LevelDraft[]>(() => policy.levels.map(levelToDraft));
  const [error, setError] = useState<FormError | null>(null);
  const [done, setDone] = useState(false);
  const sev = policy.severity;
  const dirty = JSON.stringify(drafts) !== JSON.stringify(saved.levels.map(levelToDraft));

  const save = useMutation({
    mutationFn: (body: { levels: EscalationPolicy['levels'] }) =>
      api<EscalationPolicy>('PUT', `/api/escalation-policies/${sev}`, body),
    onSuccess: (p) => {
      setSaved(p);
      setDrafts(p.levels.map(levelToDraft));
      setDone(true);
      qc.setQueryData<Policies>(KEY, (old) => old && { policies: old.policies.map((x) => (x.severity === p.severity ? p : x)) });
    },
    onError: (e: ApiError) => {
      setError(e.code === 'validation_failed'
        ? { kind: 'refused', problem: ladderProblem(e.message), server: e.message }
        : { kind: 'failed', server: e.message });
    },
  });

  const edit = (f: (d: LevelDraft[]) => LevelDraft[]) => {
    setDrafts(f);
    setDone(false);
    setError(null);
  };
  const submit = (ev: React.FormEvent) => {
    ev.preventDefault();
    setDone(false);
    setError(null);
    const body = buildPutBody(drafts);
    if ('badMinutes' in body) setError({ kind: 'badMinutes', level: body.badMinutes });
    else save.mutate(body);
  };
  const id = (i: number, f: string) => `esc-${sev}-${i}-${f}`;
  const bad = errorLevel(error);
  const errorText = (e: FormError) => {
    if (e.kind === 'badMinutes') return t('esc.badMinutes', { n: e.level });
    if (e.kind === 'failed') return t('esc.failed', { msg: e.server });
    const p = e.problem;
    if (p.kind === 'tooMany') return t('esc.err.tooMany');
    if (p.kind === 'other') return t('esc.err.other');
    return t(`esc.err.${p.kind}`, { n: p.level });
  };

  return (
    <section className={`ladder sev-edge-${sev}`} data-testid={`ladder-${sev}`} aria-labelledby={`esc-${sev}-h`}>
      <div className="ladder-head">
        <h2 id={`esc-${sev}-h`}><span className={`badge sev-${sev}`}>{t(`sev.${sev}`)}</span></h2>
        <span className="muted ladder-updated" data-testid="ladder-updated">
          {saved.updated_at && saved.updated_by
            ? t('esc.updated', { who: saved.updated_by, at: formatTime(saved.updated_at, lang) })
            : t('esc.neverUpdated')}
        </span>
      </div>
      <form onSubmit={submit} noValidate>
        {drafts.length === 0 && <p className="muted">{t('esc.none')}</p>}
        <ol className="ladder-levels">
          {drafts.map((d, i) => (
            <li key={i} className={bad === i + 1 ? 'ladder-level invalid' : 'ladder-level'} data-testid="ladder-level"
              aria-invalid={bad === i + 1 || undefined}>
              <div className="ladder-level-head">
                <strong>{t('esc.level', { n: i + 1 })}</strong>
                <button type="button" className="btn small ghost" aria-label={t('esc.removeLevel', { n: i + 1 })}
                  onClick={() => edit((ds) => ds.filter((_, j) => j !== i))}>✕</button>
              </div>
              <div className="ladder-fields">
                <label className="field ladder-after" htmlFor={id(i, 'after')}>
                  <span>{t('esc.after')}</span>
                  <input id={id(i, 'after')} name="after" inputMode="decimal" autoComplete="off" value={d.after}
                    aria-describedby={id(i, 'after-hint')}
                    onChange={(e) => edit((ds) => ds.map((x, j) => (j === i ? { ...x, after: e.target.value } : x)))} />
                  <small className="muted" id={id(i, 'after-hint')}>{t('esc.afterHint')}</small>
                </label>
                <label className="field ladder-notify" htmlFor={id(i, 'notify')}>
                  <span>{t('esc.notify')}</span>
                  <textarea id={id(i, 'notify')} name="notify" rows={2} autoComplete="off" spellCheck={false} value={d.notify}
                    aria-describedby={id(i, 'notify-hint')}
                    onChange={(e) => edit((ds) => ds.map((x, j) => (j === i ? { ...x, notify: e.target.value } : x)))} />
                  <small className="muted" id={id(i, 'notify-hint')}>{t('esc.notifyHint')}</small>
                </label>
              </div>
            </li>
          ))}
        </ol>
        {error && (
          <div className="notice error" role="alert" data-testid="ladder-error">
            <div>{errorText(error)}</div>
            {error.kind === 'refused' && <div className="ladder-server-msg">{t('esc.serverSaid', { msg: error.server })}</div>}
          </div>
        )}
        {done && <div className="notice ok" role="status" data-testid="ladder-saved">{t('esc.saved')}</div>}
        <div className="ladder-actions">
          <button type="button" className="btn" disabled={drafts.length >= 10}
            onClick={() => edit((ds) => [...ds, { after: '', notify: '' }])}>+ {t('esc.addLevel')}</button>
          {dirty && <span className="muted ladder-dirty">{t('esc.unsaved')}</span>}
          <button type="submit" className="btn primary" disabled={save.isPending || !dirty}>
            {save.isPending ? t('esc.saving') : t('esc.save')}
          </button>
        </div>
      </form>
    </section>
  );
}
