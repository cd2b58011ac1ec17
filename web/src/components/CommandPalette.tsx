// Cmd+K: open a pipeline, create one, go to a page, run a pipeline.
import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useT } from '../stores/ui';
import { usePipelines } from '../stores/pipelines';
import { toast } from '../stores/toasts';
import { Modal } from './Modal';

interface Command {
  id: string;
  label: string;
  run: () => void;
}

export function CommandPalette({ onClose }: { onClose: () => void }) {
  const t = useT();
  const nav = useNavigate();
  const { list, load, run } = usePipelines();
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  useEffect(() => {
    if (!list) void load();
  }, [list, load]);

  const commands = useMemo<Command[]>(() => {
    const go = (path: string) => () => {
      nav(path);
      onClose();
    };
    const cmds: Command[] = [
      { id: 'create', label: t('palette.create'), run: go('/pipelines?new=1') },
      { id: 'p', label: t('palette.goto', { name: t('nav.pipelines') }), run: go('/pipelines') },
      { id: 'a', label: t('palette.goto', { name: t('nav.approvals') }), run: go('/approvals') },
      { id: 'an', label: t('palette.goto', { name: t('nav.analytics') }), run: go('/pipelines/analytics') },
    ];
    for (const p of list?.pipelines ?? []) {
      cmds.push({ id: `o${p.id}`, label: t('palette.open', { name: p.name }), run: go(`/pipelines/${p.id}`) });
      cmds.push({
        id: `r${p.id}`,
        label: t('palette.run', { name: p.name }),
        run: () => {
          onClose();
          run(p.id)
            .then(() => toast(t('toast.started')))
            .catch((e: Error) => toast(e.message, 'error'));
        },
      });
    }
    const needle = q.trim().toLowerCase();
    return needle ? cmds.filter((c) => c.label.toLowerCase().includes(needle)) : cmds;
  }, [list, q, t, nav, onClose, run]);

  const pick = Math.min(active, Math.max(commands.length - 1, 0));
  return (
    <Modal title={t('nav.palette')} onClose={onClose}>
      <input
        className="palette-input"
        aria-label={t('palette.placeholder')}
        placeholder={t('palette.placeholder')}
        value={q}
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-activedescendant={commands[pick] ? `cmd-${commands[pick].id}` : undefined}
        onChange={(e) => {
          setQ(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, commands.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter') commands[pick]?.run();
          else return;
          e.preventDefault();
        }}
      />
      <ul id="palette-list" role="listbox" className="palette-list" aria-label={t('nav.palette')}>
        {commands.slice(0, 50).map((c, i) => (
          <li key={c.id} id={`cmd-${c.id}`} role="option" aria-selected={i === pick} className={i === pick ? 'active' : ''} onMouseDown={c.run}>
            {c.label}
          </li>
        ))}
        {commands.length === 0 ? <li className="muted">{t('palette.none')}</li> : null}
      </ul>
    </Modal>
  );
}
