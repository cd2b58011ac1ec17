// Auth: the API token, from the URL fragment (#token=…) or the sign-in page, kept in localStorage.
import { create } from 'zustand';

const KEY = 'flowent.token';

interface AuthState {
  token: string | null;
  signIn: (token: string) => void;
  signOut: () => void;
}

function stored(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export const useAuth = create<AuthState>((set) => ({
  token: stored(),
  signIn: (token) => {
    const t = token.trim();
    localStorage.setItem(KEY, t);
    set({ token: t });
  },
  signOut: () => {
    localStorage.removeItem(KEY);
    set({ token: null });
  },
}));

/** Takes `#token=…` out of the address bar and signs in with it. Returns true when it did. */
export function consumeHashToken(loc: Location = window.location, hist: History = window.history): boolean {
  const m = /(?:^#|&)token=([^&]+)/.exec(loc.hash);
  if (!m) return false;
  useAuth.getState().signIn(decodeURIComponent(m[1]));
  hist.replaceState(null, '', loc.pathname + loc.search);
  return true;
}
