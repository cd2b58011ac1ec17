// Numbers, durations, dates and money as the dashboard shows them.
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function fmtCost(usd: number | string | null | undefined): string {
  if (usd === null || usd === undefined) return '—';
  const n = Number(usd);
  return `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
}

export function fmtDate(iso: string | null | undefined, lang: string): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

export function fmtJson(v: unknown): string {
  return v === undefined ? '' : JSON.stringify(v, null, 2);
}

export function errorText(e: unknown): string {
  if (!e) return '';
  if (typeof e === 'string') return e;
  const o = e as { code?: string; message?: string };
  return [o.code, o.message].filter(Boolean).join(': ');
}
