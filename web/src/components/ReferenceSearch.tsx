// The search by reference number (YYYY.NNNNNNNN) of the inbox and the outbox.
import { useState } from 'preact/hooks';
import { useApp } from '../app_context';

export function ReferenceSearch(props: { id: string; onSearch: (reference: string) => void }) {
  const { t } = useApp();
  const [text, setText] = useState('');
  return (
    <form role="search" class="search" onSubmit={(e) => {
      e.preventDefault();
      props.onSearch(text.trim());
    }}>
      <label for={props.id}>{t('common.search_reference')}</label>
      <input id={props.id} inputMode="decimal" placeholder="2026.00000012" value={text}
        onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit">{t('common.search')}</button>
      {text && (
        <button type="button" class="secondary" onClick={() => {
          setText('');
          props.onSearch('');
        }}>{t('common.clear')}</button>
      )}
    </form>
  );
}
