import type { PipelineList } from '../../api/types';
import { useT } from '../../stores/ui';

export function StatCards({ list }: { list: PipelineList | null }) {
  const t = useT();
  const ps = list?.pipelines ?? [];
  const cards = [
    { label: t('stats.total'), value: list?.meta.total },
    { label: t('stats.active'), value: list ? ps.filter((p) => p.status === 'active' || p.is_active).length : undefined },
    { label: t('stats.running'), value: list?.meta.running },
    { label: t('stats.executions'), value: list ? ps.reduce((a, p) => a + p.execution_count, 0) : undefined },
  ];
  return (
    <section className="stats" aria-label={t('stats.total')}>
      {cards.map((c) => (
        <div className="card stat" key={c.label}>
          <div className="stat-label">{c.label}</div>
          <div className="stat-value">{c.value ?? '—'}</div>
        </div>
      ))}
    </section>
  );
}
