import { useNavigate, useSearchParams } from 'react-router';
import { MessageSearch } from '../components/SearchHits';
import { useT } from '../i18n';

/** Message search across every room the user may read; a hit opens its room at the message. */
export function SearchPage() {
  const t = useT();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  return (
    <div className="page search-page">
      <h1>{t('search.title')}</h1>
      <MessageSearch
        placeholder={t('search.placeholder')}
        initial={params.get('q') ?? ''}
        autoFocus
        onQuery={(q) => setParams(q ? { q } : {}, { replace: true })}
        onOpen={(h) => nav(`/rooms/${h.room_id}?at=${h.seq}`)}
      />
    </div>
  );
}
