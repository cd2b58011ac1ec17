// The app frame: navigation (with the approvals count), language, theme, command palette.
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import { useT, useUi } from '../stores/ui';
import { useAuth } from '../stores/auth';
import { useApprovals } from '../stores/approvals';
import { joinFeed, useLive } from '../stores/live';
import { CommandPalette } from './CommandPalette';
import { mayLeave } from '../stores/leaveGuard';
import { Toasts } from './Toasts';

export function Shell({ children }: { children: ReactNode }) {
  const t = useT();
  const { lang, setLang, theme, setTheme } = useUi();
  const signOut = useAuth((s) => s.signOut);
  const count = useApprovals((s) => s.items?.length ?? 0);
  const loadApprovals = useApprovals((s) => s.load);
  const feedTick = useLive((s) => s.feedTick);
  const [palette, setPalette] = useState(false);

  useEffect(() => {
    joinFeed();
    const iv = setInterval(() => void loadApprovals(), 15000);
    return () => clearInterval(iv);
  }, [loadApprovals]);
  useEffect(() => {
    void loadApprovals();
  }, [feedTick, loadApprovals]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.metaKey || e.ctrlKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPalette((p) => !p);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <a className="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header className="topbar">
        <NavLink to="/pipelines" className="brand">
          {t('app.name')}
        </NavLink>
        <nav aria-label={t('nav.main')} onClickCapture={(e) => (e.target as HTMLElement).closest('a') && !mayLeave() && e.preventDefault()}>
          <NavLink to="/pipelines" end>
            {t('nav.pipelines')}
          </NavLink>
          <NavLink to="/approvals">
            {t('nav.approvals')}
            {count > 0 ? (
              <span className="count" data-testid="approvals-count">
                {count}
              </span>
            ) : null}
          </NavLink>
          <NavLink to="/pipelines/analytics">{t('nav.analytics')}</NavLink>
        </nav>
        <div className="topbar-tools">
          <button type="button" className="ghost" onClick={() => setPalette(true)} title={t('nav.palette')} aria-keyshortcuts="Control+K Meta+K">
            <span aria-hidden="true">⌘K</span>
            <span className="sr-only">{t('nav.palette')}</span>
          </button>
          <label className="sr-only" htmlFor="lang">
            {t('nav.language')}
          </label>
          <select id="lang" value={lang} onChange={(e) => setLang(e.target.value === 'de' ? 'de' : 'en')}>
            <option value="en">English</option>
            <option value="de">Deutsch</option>
          </select>
          <button
            type="button"
            className="ghost"
            title={t('nav.theme')}
            data-testid="theme"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          >
            {theme === 'dark' ? t('nav.themeLight') : t('nav.themeDark')}
          </button>
          <button type="button" className="ghost" onClick={signOut}>
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
      {palette ? <CommandPalette onClose={() => setPalette(false)} /> : null}
      <Toasts />
    </div>
  );
}
