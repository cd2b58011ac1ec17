import { useT } from '../stores/ui';
import { isKey } from '../i18n/catalog';

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const t = useT();
  if (!status) return null;
  const key = `status.${status}`;
  return <span className={`badge badge-${status}`}>{isKey(key) ? t(key) : status}</span>;
}
