import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { BrowserRouter, Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { api, ApiError, configureHttp } from './api/http';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { NotificationBell } from './components/NotificationBell';
import { startConnection, stopConnection } from './connection';
import { useLang, useT } from './i18n';
import { EscalationPage } from './pages/EscalationPage';
import { RoutingPage } from './pages/RoutingPage';
import { AdminMenu } from './components/AdminMenu';
import { LoginPage } from './pages/LoginPage';
import { RoomPage } from './pages/RoomPage';
import { RoomsLayout } from './pages/RoomsLayout';
import { SearchPage } from './pages/SearchPage';
import { useSession } from './stores/session';

// The dashboard brings the chart library: loaded when first opened.
const DashboardPage = lazy(() => import('./pages/DashboardPage'));
// The templates admin page is for system administrators only.
const TemplatesPage = lazy(() => import('./pages/TemplatesPage').then((m) => ({ default: m.TemplatesPage })));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (n, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && n < 2,
      refetchOnWindowFocus: true,
    },
  },
});

configureHttp({
  token: () => useSession.getState().token,
  unauthorized: (code) => {
    if (!useSession.getState().token) return;
    stopConnection(false);
    queryClient.clear();
    useSession.getState().signOut(code);
  },
});

function Shell({ children }: { children: React.ReactNode }) {
  const t = useT();
  const { user } = useSession();
  const { lang, setLang } = useLang();
  const logout = async () => {
    try {
      await api('POST', '/api/auth/logout');
    } catch {
      /* signed out locally either way */
    }
    stopConnection(true);
    queryClient.clear();
    useSession.getState().signOut(null);
  };
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand" aria-label={t('app')}>
          <span className="brand-mark" aria-hidden>▲</span>
          <span className="brand-name">Andon</span>
        </Link>
        <ConnectionIndicator />
        <div className="topbar-right">
          <NavLink to="/search" className="btn ghost nav-link" data-testid="nav-search" aria-label={t('search.nav')} title={t('search.nav')}>
            <span aria-hidden>🔍</span><span className="nav-label">{t('search.nav')}</span>
          </NavLink>
          <NavLink to="/dashboard" className="btn ghost nav-link" data-testid="nav-dashboard" aria-label={t('dash.nav')} title={t('dash.nav')}>
            <span aria-hidden>📊</span><span className="nav-label">{t('dash.nav')}</span>
          </NavLink>
          {user?.is_admin && (
            <AdminMenu />
          )}
          <NotificationBell />
          <button className="btn ghost" onClick={() => setLang(lang === 'en' ? 'zh-Hant' : 'en')} lang={lang === 'en' ? 'zh-Hant' : 'en'}>
            {t('language')}
          </button>
          <span className="me" title={user?.id}>{user?.display_name}</span>
          <button className="btn ghost" onClick={logout}>{t('logout')}</button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}

function Authed() {
  const user = useSession((s) => s.user);
  // Started during render (idempotent) so that pages' effects, which run before
  // this component's, already find the client to subscribe with.
  if (user) startConnection(user.id, queryClient);
  useEffect(() => {
    if (!user) return;
    // Refresh the profile (is_admin may change); a 401 here signs out with its reason.
    api<import('./api/types').User>('GET', '/api/auth/me').then((u) => useSession.getState().setUser(u)).catch(() => {});
  }, [user?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <Shell>
      <Routes>
        <Route element={<RoomsLayout />}>
          <Route path="/" element={null} />
          <Route path="/rooms/:roomId" element={<RoomPage />} />
        </Route>
        <Route path="/search" element={<SearchPage />} />
        <Route path="/admin/routing" element={<RoutingPage />} />
        <Route path="/admin/escalation" element={<EscalationPage />} />
        <Route path="/admin/templates" element={<Suspense fallback={<p className="page muted">{'…'}</p>}><TemplatesPage /></Suspense>} />
        <Route path="/dashboard" element={<Suspense fallback={<p className="page muted">{'…'}</p>}><DashboardPage /></Suspense>} />
        <Route path="/login" element={<Navigate to="/" replace />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Shell>
  );
}

function NotFound() {
  const t = useT();
  return (
    <div className="empty-state">
      <h1>{t('notFound.title')}</h1>
      <Link className="btn" to="/">{t('notFound.back')}</Link>
    </div>
  );
}

function Gate() {
  const token = useSession((s) => s.token);
  const loc = useLocation();
  if (!token) {
    if (loc.pathname !== '/login') return <Navigate to="/login" replace state={{ from: loc.pathname + loc.search }} />;
    return <LoginPage />;
  }
  return <Authed />;
}

export function App() {
  const lang = useLang((s) => s.lang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Gate />
      </BrowserRouter>
    </QueryClientProvider>
  );
}
