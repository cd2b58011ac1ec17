// /pipelines: stat cards, filter and search, pipeline cards, starter kits, templates, wizard.
import { useEffect, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { usePipelines } from '../stores/pipelines';
import { useT } from '../stores/ui';
import { Empty, ErrorState, Loading } from '../components/States';
import { StatCards } from './pipelines/StatCards';
import { PipelineCard } from './pipelines/PipelineCard';
import { TemplateGallery, TemplateCard } from './pipelines/Templates';
import { Wizard } from './pipelines/Wizard';

export function PipelinesPage() {
  const t = useT();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  const { list, loading, error, status, search, setStatus, setSearch, load, templates, loadTemplates } = usePipelines();
  const [gallery, setGallery] = useState(false);
  const [q, setQ] = useState(search);
  const wizard = params.get('new') === '1';

  useEffect(() => {
    void load();
    const iv = setInterval(() => void load(), 10000);
    return () => clearInterval(iv);
  }, [load]);
  useEffect(() => {
    if (!templates) void loadTemplates();
  }, [templates, loadTemplates]);
  useEffect(() => {
    const h = setTimeout(() => q !== search && setSearch(q), 250);
    return () => clearTimeout(h);
  }, [q, search, setSearch]);

  const empty = list && list.pipelines.length === 0 && !status && !search;
  return (
    <div className="page">
      <div className="page-head">
        <h1>{t('pipelines.title')}</h1>
        <div className="row">
          <button type="button" onClick={() => setGallery(true)}>
            {t('pipelines.templates')}
          </button>
          <button type="button" className="primary" onClick={() => setParams({ new: '1' })}>
            {t('pipelines.new')}
          </button>
        </div>
      </div>
      <StatCards list={list} />
      <div className="toolbar">
        <label className="sr-only" htmlFor="search">
          {t('pipelines.search')}
        </label>
        <input id="search" type="search" placeholder={t('pipelines.search')} value={q} onChange={(e) => setQ(e.target.value)} />
        <label htmlFor="status-filter">{t('pipelines.filter')}</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="">{t('pipelines.all')}</option>
          <option value="draft">{t('status.draft')}</option>
          <option value="active">{t('status.active')}</option>
          <option value="archived">{t('status.archived')}</option>
        </select>
      </div>
      {error ? <ErrorState error={error} onRetry={() => void load()} /> : null}
      {!list && loading ? <Loading /> : null}
      {empty ? (
        <section aria-labelledby="starter-h">
          <h2 id="starter-h">{t('pipelines.empty')}</h2>
          <div className="grid">
            {(templates ?? [])
              .filter((x) => x.starter_kit)
              .map((x) => (
                <TemplateCard key={x.id} template={x} onCloned={(id) => nav(`/pipelines/${id}/editor`)} />
              ))}
          </div>
        </section>
      ) : null}
      {list && list.pipelines.length === 0 && !empty ? <Empty>{t('pipelines.noMatch')}</Empty> : null}
      <div className="grid" data-testid="pipeline-grid">
        {list?.pipelines.map((p) => <PipelineCard key={p.id} p={p} />)}
      </div>
      {gallery ? <TemplateGallery onClose={() => setGallery(false)} /> : null}
      {wizard ? <Wizard onClose={() => setParams({})} /> : null}
    </div>
  );
}
