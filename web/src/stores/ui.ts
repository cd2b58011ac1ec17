// Language and theme: picked from the browser, switchable, remembered.
import { create } from 'zustand';
import { translate, type Lang, type Key } from '../i18n/catalog';

type Theme = 'light' | 'dark';

interface UiState {
  lang: Lang;
  theme: Theme;
  setLang: (l: Lang) => void;
  setTheme: (t: Theme) => void;
  t: (key: Key, params?: Record<string, string | number>) => string;
}

export function detectLang(languages: readonly string[] | undefined): Lang {
  for (const l of languages ?? []) {
    const p = l.toLowerCase().slice(0, 2);
    if (p === 'de') return 'de';
    if (p === 'en') return 'en';
  }
  return 'en';
}

function initialLang(): Lang {
  const s = typeof localStorage !== 'undefined' ? localStorage.getItem('flowent.lang') : null;
  if (s === 'de' || s === 'en') return s;
  return detectLang(typeof navigator !== 'undefined' ? navigator.languages : undefined);
}

function initialTheme(): Theme {
  const s = typeof localStorage !== 'undefined' ? localStorage.getItem('flowent.theme') : null;
  if (s === 'light' || s === 'dark') return s;
  return typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function apply(lang: Lang, theme: Theme): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = lang;
  document.documentElement.dataset.theme = theme;
}

export const useUi = create<UiState>((set, get) => {
  const lang = initialLang();
  const theme = initialTheme();
  apply(lang, theme);
  return {
    lang,
    theme,
    setLang: (l) => {
      localStorage.setItem('flowent.lang', l);
      apply(l, get().theme);
      set({ lang: l, t: (k, p) => translate(l, k, p) });
    },
    setTheme: (th) => {
      localStorage.setItem('flowent.theme', th);
      apply(get().lang, th);
      set({ theme: th });
    },
    t: (k, p) => translate(lang, k, p),
  };
});

/** The translate function of the current language; components re-render when it changes. */
export const useT = () => useUi((s) => s.t);
