// A timeline opened at a search hit is a window into older history: this is what
// MessageList needs for it, kept apart from the list itself. Scrolling down loads
// newer pages until the window meets the live tail; "jump to latest" reopens the
// latest page; the message jumped to is scrolled into view and highlighted.

import { useEffect, useRef, useState, type RefObject } from 'react';
import { api } from '../api/http';
import type { MessagePage } from '../api/types';
import { useT } from '../i18n';
import { useLive } from '../stores/live';
import type { Timeline } from '../stores/timeline';

/** A request to show the message at `seq` (or the next one after it); `n` tells repeated requests apart. */
export interface Focus { seq: number; n: number }

/** How long a message jumped to stays highlighted. */
const HIGHLIGHT_MS = 2500;

export function useHistoryWindow(roomId: string, tl: Timeline, scroller: RefObject<HTMLDivElement | null>, focus: Focus | null | undefined,
  onError: (e: unknown) => void, setStuck: (stuck: boolean) => void) {
  const [loadingNewer, setLoadingNewer] = useState(false);
  const done = useRef<number | null>(null);

  // Scroll to the message asked for once it is loaded, and highlight it briefly.
  useEffect(() => {
    if (!focus || done.current === focus.n) return;
    const target = tl.messages.find((m) => m.seq >= focus.seq);
    const el = target && scroller.current?.querySelector<HTMLElement>(`[data-id="${target.id}"]`);
    if (!el) return;
    done.current = focus.n;
    setStuck(false);
    el.scrollIntoView({ block: 'center' });
    el.classList.add('msg-focus');
    const id = setTimeout(() => el.classList.remove('msg-focus'), HIGHLIGHT_MS);
    return () => clearTimeout(id);
  }, [focus?.n, tl.messages]); // eslint-disable-line react-hooks/exhaustive-deps

  const loadNewer = async () => {
    if (loadingNewer || !tl.hasNewer || !tl.messages.length) return;
    setLoadingNewer(true);
    try {
      const last = tl.messages[tl.messages.length - 1].seq;
      const page = await api<MessagePage>('GET', `/api/rooms/${roomId}/messages?after_seq=${last}&limit=50`);
      useLive.getState().loadNewer(roomId, page.messages, page.has_more, page.events);
    } catch (e) {
      onError(e);
    } finally {
      setLoadingNewer(false);
    }
  };

  const jumpLatest = async () => {
    try {
      const page = await api<MessagePage>('GET', `/api/rooms/${roomId}/messages?limit=50`);
      useLive.getState().loadWindow(roomId, page.messages, page.has_more, false, page.events);
      setStuck(true);
      requestAnimationFrame(() => { const el = scroller.current; if (el) el.scrollTop = el.scrollHeight; });
    } catch (e) {
      onError(e);
    }
  };

  return { loadingNewer, loadNewer, jumpLatest };
}

/** The bottom edge of a window of older history. */
export function NewerEdge({ loading, onLoad }: { loading: boolean; onLoad: () => void }) {
  const t = useT();
  return (
    <div className="history-edge">
      <button className="btn ghost small" onClick={onLoad} disabled={loading} data-testid="load-newer">{t('room.loadNewer')}</button>
    </div>
  );
}
