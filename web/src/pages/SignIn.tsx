import { useState, type FormEvent } from 'react';
import { useAuth } from '../stores/auth';
import { useT, useUi } from '../stores/ui';

export function SignIn() {
  const t = useT();
  const signIn = useAuth((s) => s.signIn);
  const { lang, setLang } = useUi();
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) signIn(token);
  };
  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit}>
        <h1>{t('signin.title')}</h1>
        <label htmlFor="token">{t('signin.token')}</label>
        <input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} placeholder="flw_…" />
        <p className="muted">{t('signin.help')}</p>
        <button type="submit" className="primary">
          {t('signin.submit')}
        </button>
        <button type="button" className="link" onClick={() => setLang(lang === 'de' ? 'en' : 'de')}>
          {lang === 'de' ? 'English' : 'Deutsch'}
        </button>
      </form>
    </main>
  );
}
