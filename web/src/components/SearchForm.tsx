// The search of the inbox and the outbox (lib/search.ts): reference number, number and
// a range of days. Applied on submit (Enter in any field), cleared in one click.
import { useState } from 'preact/hooks';
import { useApp } from '../app_context';
import { isFiltered, noFilters, type Filters } from '../lib/search';

export function SearchForm(props: { id: string; numberLabel: string; onSearch: (f: Filters) => void }) {
  const { t } = useApp();
  const [f, setF] = useState<Filters>(noFilters);
  const field = (key: keyof Filters, label: string, extra: Record<string, string> = {}) => (
    <div class="field">
      <label for={`${props.id}-${key}`}>{label}</label>
      <input id={`${props.id}-${key}`} value={f[key]} {...extra}
        onInput={(e) => setF({ ...f, [key]: e.currentTarget.value })} />
    </div>
  );
  return (
    <form role="search" class="search" aria-label={t('common.search')} onSubmit={(e) => {
      e.preventDefault();
      props.onSearch(f);
    }}>
      {field('reference', t('common.search_reference'), { inputMode: 'decimal', placeholder: '2026.00000012' })}
      {field('number', props.numberLabel, { inputMode: 'tel', autocomplete: 'off' })}
      {field('fromDay', t('common.from_day'), { type: 'date' })}
      {field('toDay', t('common.to_day'), { type: 'date' })}
      <div class="buttons">
        <button type="submit">{t('common.search')}</button>
        {isFiltered(f) && (
          <button type="button" class="secondary" onClick={() => {
            setF(noFilters);
            props.onSearch(noFilters);
          }}>{t('common.clear')}</button>
        )}
      </div>
    </form>
  );
}
