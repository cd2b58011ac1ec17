// The node palette: /api/node-types grouped by category, with search; drag onto the canvas or press Enter.
import { useMemo, useState } from 'react';
import { useNodeTypes } from '../stores/nodeTypes';
import { useT } from '../stores/ui';
import { ErrorState, Loading } from '../components/States';
import { isKey } from '../i18n/catalog';
import type { NodeType } from '../api/types';

export const DND_TYPE = 'application/flowent-node';
const ORDER = ['trigger', 'control', 'data', 'action', 'ai'];

export function groupTypes(types: NodeType[], q: string): [string, NodeType[]][] {
  const needle = q.trim().toLowerCase();
  const groups = new Map<string, NodeType[]>();
  for (const n of types) {
    if (needle && !`${n.label} ${n.type} ${n.description ?? ''}`.toLowerCase().includes(needle)) continue;
    const cat = n.type === 'trigger' ? 'trigger' : n.category;
    groups.set(cat, [...(groups.get(cat) ?? []), n]);
  }
  const rank = (c: string) => (ORDER.indexOf(c) < 0 ? ORDER.length : ORDER.indexOf(c));
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

export function Palette({ onAdd }: { onAdd: (type: string) => void }) {
  const t = useT();
  const { types, error, load } = useNodeTypes();
  const [q, setQ] = useState('');
  const groups = useMemo(() => groupTypes(types ?? [], q), [types, q]);
  return (
    <aside className="palette" aria-label={t('editor.palette')}>
      <h2 className="panel-title">{t('editor.palette')}</h2>
      <input type="search" aria-label={t('editor.searchNodes')} placeholder={t('editor.searchNodes')} value={q} onChange={(e) => setQ(e.target.value)} />
      {error ? <ErrorState error={error} onRetry={() => void load()} /> : null}
      {!types && !error ? <Loading /> : null}
      {groups.map(([cat, items]) => {
        const key = `cat.${cat}`;
        return (
          <section key={cat} className="palette-group">
            <h3>{isKey(key) ? t(key) : cat}</h3>
            <ul>
              {items.map((n) => (
                <li key={n.type}>
                  <button
                    type="button"
                    className={`palette-item cat-${n.category}`}
                    draggable
                    data-type={n.type}
                    title={n.description ?? n.label}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DND_TYPE, n.type);
                      e.dataTransfer.effectAllowed = 'move';
                    }}
                    onClick={() => onAdd(n.type)}
                  >
                    {n.label}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </aside>
  );
}
