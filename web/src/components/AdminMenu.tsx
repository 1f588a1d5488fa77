// The system administrator's pages, behind one button in the top bar so the bar
// still fits a phone however many admin pages there are.

import { useCallback, useRef, useState } from 'react';
import { NavLink, useLocation } from 'react-router';
import { useT } from '../i18n';
import { useDismiss } from './useDismiss';

export function AdminMenu() {
  const t = useT();
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(box, open, close);
  const here = useLocation().pathname.startsWith('/admin/');
  const links = [
    { to: '/admin/routing', label: t('nav.routing'), testId: 'nav-routing' },
    { to: '/admin/escalation', label: t('nav.escalation'), testId: 'nav-escalation' },
    { to: '/admin/templates', label: t('nav.templates'), testId: 'nav-templates' },
  ];
  return (
    <div className="menu" ref={box}>
      <button className={`btn ghost nav-link${here ? ' active' : ''}`} data-testid="nav-admin" aria-haspopup="true"
        aria-expanded={open} aria-label={t('nav.admin')} title={t('nav.admin')} onClick={() => setOpen(!open)}>
        <span aria-hidden>⚙</span><span className="nav-label">{t('nav.admin')} ▾</span>
      </button>
      {open && (
        <ul className="menu-panel" aria-label={t('nav.admin')}>
          {links.map((l) => (
            <li key={l.to}>
              <NavLink to={l.to} className="menu-item" data-testid={l.testId} onClick={close}>{l.label}</NavLink>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
