import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/http';
import type { GlobalSearchPage, MessageHit, RoomSearchPage } from '../api/types';
import { formatTime, useLang, useT } from '../i18n';
import { checkQuery, highlight, QUERY_MAX, snippet } from '../stores/search';

/** `text` with the matches of `q` marked. */
export function Highlighted({ text, q }: { text: string; q: string }) {
  return (
    <>
      {highlight(text, q).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </>
  );
}

/**
 * Pages of message search: in one room (`roomId`) or across rooms. Newest first;
 * the next page is asked for with the previous page's cursor.
 */
export function useMessageSearch(q: string, roomId?: string) {
  return useInfiniteQuery({
    queryKey: ['message-search', roomId ?? '*', q],
    enabled: q.length > 0,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => {
      const params = new URLSearchParams({ q, limit: '20' });
      if (roomId) {
        if (pageParam) params.set('before_seq', pageParam);
        const page = await api<RoomSearchPage>('GET', `/api/rooms/${roomId}/messages/search?${params}`);
        return { hits: page.hits, next: page.next_before_seq === null ? null : String(page.next_before_seq) };
      }
      if (pageParam) params.set('before', pageParam);
      const page = await api<GlobalSearchPage>('GET', `/api/search/messages?${params}`);
      return { hits: page.hits, next: page.next_before };
    },
    getNextPageParam: (last) => last.next,
  });
}

/**
 * A search box and its hits with every state (hint, too long, loading, error, none,
 * more). `onOpen` is called with the hit clicked.
 */
export function MessageSearch({ roomId, placeholder, initial = '', onQuery, onOpen, autoFocus }: {
  roomId?: string;
  placeholder: string;
  initial?: string;
  onQuery?: (q: string) => void;
  onOpen: (hit: MessageHit) => void;
  autoFocus?: boolean;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const [text, setText] = useState(initial);
  const [q, setQ] = useState(() => { const c = checkQuery(initial); return c.ok ? c.q : ''; });
  useEffect(() => {
    const id = setTimeout(() => {
      const c = checkQuery(text);
      const next = c.ok ? c.q : '';
      setQ(next);
      onQuery?.(next);
    }, 300);
    return () => clearTimeout(id);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps
  const check = checkQuery(text);
  const search = useMessageSearch(q, roomId);
  const hits = search.data?.pages.flatMap((p) => p.hits) ?? [];

  return (
    <div className="message-search" data-testid={roomId ? 'room-search' : 'global-search'}>
      <form role="search" onSubmit={(e) => { e.preventDefault(); const c = checkQuery(text); if (c.ok) { setQ(c.q); onQuery?.(c.q); } }}>
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder={placeholder}
          aria-label={placeholder} autoFocus={autoFocus} maxLength={QUERY_MAX * 2} data-testid="search-input" />
        <button className="btn primary" type="submit">{t('search.submit')}</button>
      </form>
      {!check.ok && check.reason === 'long' ? (
        <p className="notice error" role="alert">{t('search.tooLong', { n: QUERY_MAX })}</p>
      ) : !q ? (
        <p className="muted search-hint">{t('search.hint')}</p>
      ) : search.isPending ? (
        <p className="muted" role="status">{t('search.loading')}</p>
      ) : search.isError ? (
        <p className="notice error" role="alert">{t('search.error', { msg: (search.error as ApiError).message })}</p>
      ) : hits.length === 0 ? (
        <p className="muted" role="status" data-testid="search-none">{t('search.none', { q })}</p>
      ) : (
        <>
          <p className="muted search-order">{t('search.newestFirst')}</p>
          <ul className="search-hits" data-testid="search-hits">
            {hits.map((h) => (
              <li key={h.message_id}>
                <button className="search-hit" onClick={() => onOpen(h)} data-testid="search-hit" data-seq={h.seq} data-room={h.room_id}>
                  {h.room_title !== undefined && (
                    <span className="search-hit-room" title={t('search.inRoom', { room: h.room_title })}>{h.room_title}</span>
                  )}
                  <span className="search-hit-head">
                    <span className="msg-sender">{h.sender_name || h.sender}</span>
                    <time className="muted" dateTime={h.created_at}>{formatTime(h.created_at, lang)}</time>
                  </span>
                  <span className="search-hit-text"><Highlighted text={snippet(h.content, q)} q={q} /></span>
                </button>
              </li>
            ))}
          </ul>
          {search.hasNextPage && (
            <button className="btn ghost" onClick={() => void search.fetchNextPage()} disabled={search.isFetchingNextPage}>
              {search.isFetchingNextPage ? t('search.loading') : t('search.more')}
            </button>
          )}
        </>
      )}
    </div>
  );
}
