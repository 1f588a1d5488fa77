import { useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { api, ApiError } from '../api/http';
import type { User } from '../api/types';
import { useLang, useT, type Key } from '../i18n';
import { useSession } from '../stores/session';

export function reasonText(t: ReturnType<typeof useT>, code: string, retryAfter?: number, msg?: string): string {
  const known = ['invalid_credentials', 'session_expired', 'session_revoked', 'session_ended', 'invalid_token', 'missing_token', 'ad_unavailable', 'network'];
  if (code === 'rate_limited') return t('reason.rate_limited', { n: retryAfter ?? 60 });
  if (known.includes(code)) return t(`reason.${code}` as Key);
  return t('reason.other', { msg: msg ?? code });
}

export function LoginPage() {
  const t = useT();
  const { lang, setLang } = useLang();
  const reason = useSession((s) => s.reason);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pwRef = useRef<HTMLInputElement>(null);
  const nav = useNavigate();
  const loc = useLocation();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ token: string; user: User }>('POST', '/api/auth/login', { username: username.trim(), password }, { auth: false });
      useSession.getState().signIn(r.token, r.user);
      const from = (loc.state as { from?: string } | null)?.from;
      nav(from && from !== '/login' ? from : '/', { replace: true });
    } catch (err) {
      const e2 = err instanceof ApiError ? err : new ApiError(0, 'network', 'network');
      setError(reasonText(t, e2.code, e2.retryAfter, e2.message));
      if (e2.code === 'invalid_credentials') {
        setPassword('');
        pwRef.current?.focus();
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-brand"><span className="brand-mark" aria-hidden>▲</span> Andon</div>
        <h1 id="login-title">{t('login.title')}</h1>
        <p className="muted">{t('login.subtitle')}</p>
        {reason && !error && <div className="notice warn" role="alert" data-testid="login-reason">{reasonText(t, reason)}</div>}
        {error && <div className="notice error" role="alert" data-testid="login-error">{error}</div>}
        <label className="field">
          <span>{t('login.username')}</span>
          <input name="username" autoComplete="username" inputMode="email" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <div className="password-row">
            <input ref={pwRef} name="password" type={show ? 'text' : 'password'} autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <button type="button" className="btn ghost" aria-pressed={show} onClick={() => setShow(!show)}>
              {show ? t('login.hide') : t('login.show')}
            </button>
          </div>
        </label>
        <button className="btn primary wide" type="submit" disabled={busy}>{busy ? t('login.busy') : t('login.submit')}</button>
        <button type="button" className="btn ghost lang-switch" onClick={() => setLang(lang === 'en' ? 'zh-Hant' : 'en')}>{t('language')}</button>
      </form>
    </div>
  );
}
