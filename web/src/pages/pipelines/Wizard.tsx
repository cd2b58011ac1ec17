// The guided create wizard: name, trigger, steps, with a mini graph preview.
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Modal } from '../../components/Modal';
import { MiniGraph } from '../../components/MiniGraph';
import { usePipelines } from '../../stores/pipelines';
import { useT } from '../../stores/ui';
import { toast } from '../../stores/toasts';
import { WIZARD_BLOCKS, wizardGraph, type WizardBlock } from '../../lib/wizard';
import type { Key } from '../../i18n/catalog';

const TRIGGERS = ['manual', 'schedule', 'webhook', 'table'] as const;
const BLOCK_LABEL: Record<WizardBlock, string> = {
  condition: 'Condition',
  'data-transform': 'Data Transform',
  'http-request': 'HTTP Request',
  'llm-agent': 'LLM Agent',
  'human-approval': 'Human Approval',
};

export function Wizard({ onClose }: { onClose: () => void }) {
  const t = useT();
  const nav = useNavigate();
  const create = usePipelines((s) => s.create);
  const [step, setStep] = useState(1);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [trigger, setTrigger] = useState<string>('manual');
  const [blocks, setBlocks] = useState<WizardBlock[]>([]);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const graph = useMemo(() => wizardGraph(trigger, blocks), [trigger, blocks]);

  const submit = async () => {
    setBusy(true);
    try {
      const p = await create({ name: name.trim(), description: description || undefined, ...graph });
      onClose();
      nav(`/pipelines/${p.id}/editor`);
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  const next = () => {
    if (step === 1 && !name.trim()) {
      setErr(t('wizard.nameRequired'));
      return;
    }
    setErr('');
    setStep(step + 1);
  };
  return (
    <Modal title={t('wizard.title')} onClose={onClose} wide>
      <p className="muted">{t('wizard.step', { n: step })}</p>
      <div className="wizard">
        <div className="wizard-form">
          {step === 1 ? (
            <>
              <label htmlFor="wz-name">{t('wizard.name')}</label>
              <input id="wz-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!err} aria-describedby="wz-err" />
              <span id="wz-err" className="error-text">
                {err}
              </span>
              <label htmlFor="wz-desc">{t('wizard.description')}</label>
              <textarea id="wz-desc" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
            </>
          ) : null}
          {step === 2 ? (
            <fieldset>
              <legend>{t('wizard.trigger')}</legend>
              {TRIGGERS.map((x) => (
                <label key={x} className="radio">
                  <input type="radio" name="wz-trigger" value={x} checked={trigger === x} onChange={() => setTrigger(x)} />
                  {t(`trigger.${x}` as Key)}
                </label>
              ))}
            </fieldset>
          ) : null}
          {step === 3 ? (
            <fieldset>
              <legend>{t('wizard.steps')}</legend>
              {WIZARD_BLOCKS.map((b) => (
                <label key={b} className="radio">
                  <input
                    type="checkbox"
                    checked={blocks.includes(b)}
                    onChange={(e) => setBlocks(e.target.checked ? WIZARD_BLOCKS.filter((x) => x === b || blocks.includes(x)) : blocks.filter((x) => x !== b))}
                  />
                  {BLOCK_LABEL[b]}
                </label>
              ))}
            </fieldset>
          ) : null}
        </div>
        <div className="wizard-preview">
          <h3>{t('wizard.preview')}</h3>
          <MiniGraph nodes={graph.nodes} edges={graph.edges} title={t('wizard.preview')} />
        </div>
      </div>
      <div className="row end">
        <button type="button" onClick={onClose}>
          {t('action.cancel')}
        </button>
        {step > 1 ? (
          <button type="button" onClick={() => setStep(step - 1)}>
            {t('action.back')}
          </button>
        ) : null}
        {step < 3 ? (
          <button type="button" className="primary" onClick={next}>
            {t('action.next')}
          </button>
        ) : (
          <button type="button" className="primary" disabled={busy} onClick={() => void submit()}>
            {t('action.create')}
          </button>
        )}
      </div>
    </Modal>
  );
}
