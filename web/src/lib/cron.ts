// A human-readable preview of a cron expression (5 fields, as pg_cron takes them).
import cronstrue from 'cronstrue/i18n';
import type { Lang } from '../i18n/catalog';

const FIELD = /^(\*|\?|[0-9A-Za-z,\-*/#LW]+)$/;

export function describeCron(expr: string, lang: Lang): { ok: true; text: string } | { ok: false } {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 || !parts.every((p) => FIELD.test(p))) return { ok: false };
  try {
    const text = cronstrue.toString(parts.join(' '), { locale: lang, use24HourTimeFormat: true, throwExceptionOnParseError: true });
    return { ok: true, text };
  } catch {
    return { ok: false };
  }
}
