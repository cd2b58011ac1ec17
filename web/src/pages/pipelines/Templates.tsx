// Template gallery (preview, clone) and the starter-kit cards.
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import type { Template } from '../../api/types';
import { Modal } from '../../components/Modal';
import { MiniGraph } from '../../components/MiniGraph';
import { ErrorState, Loading } from '../../components/States';
import { usePipelines } from '../../stores/pipelines';
import { useT } from '../../stores/ui';
import { toast } from '../../stores/toasts';

export function TemplateCard({ template, onCloned }: { template: Template; onCloned: (id: string) => void }) {
  const t = useT();
  const clone = usePipelines((s) => s.cloneTemplate);
  const [preview, setPreview] = useState(false);
  const [busy, setBusy] = useState(false);
  const doClone = async () => {
    setBusy(true);
    try {
      const p = await clone(template.id);
      onCloned(p.id);
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="card template-card" data-testid="template-card">
      <div className="row spread">
        <h3 className="card-title">{template.name}</h3>
        {template.starter_kit ? <span className="badge badge-active">{t('templates.starter')}</span> : null}
      </div>
      <p className="muted small clamp">{template.description}</p>
      <p className="muted small">
        {template.category} · {t('templates.nodes', { n: template.node_count })}
      </p>
      {preview ? <MiniGraph nodes={template.nodes} edges={template.edges} title={template.name} /> : null}
      <div className="row actions">
        <button type="button" aria-expanded={preview} onClick={() => setPreview(!preview)}>
          {t('action.preview')}
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void doClone()}>
          {t('action.clone')}
        </button>
      </div>
    </article>
  );
}

export function TemplateGallery({ onClose }: { onClose: () => void }) {
  const t = useT();
  const nav = useNavigate();
  const { templates, templatesError, loadTemplates } = usePipelines();
  return (
    <Modal title={t('templates.title')} onClose={onClose} wide>
      {templatesError ? <ErrorState error={templatesError} onRetry={() => void loadTemplates()} /> : null}
      {!templates && !templatesError ? <Loading /> : null}
      <div className="grid gallery">
        {templates?.map((x) => (
          <TemplateCard
            key={x.id}
            template={x}
            onCloned={(id) => {
              onClose();
              nav(`/pipelines/${id}/editor`);
            }}
          />
        ))}
      </div>
      <div className="row end">
        <button type="button" onClick={onClose}>
          {t('action.close')}
        </button>
      </div>
    </Modal>
  );
}
