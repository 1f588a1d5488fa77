// Mentions in the web client (issue 20): the composer's `@` autocomplete and the
// highlighted mentions of a sent message. The rules are in ../mentions.ts.

import { useId, useMemo, useState, type KeyboardEvent, type RefObject } from 'react';
import type { Message, Room } from '../api/types';
import { useLang, useT } from '../i18n';
import { activeMention, insertMention, mentionMetadata, mentionsMe, nameOf, segments, suggest, type Suggestion } from '../mentions';
import { useSession } from '../stores/session';
import { useMembers } from './MembersPanel';

/** The composer's mention autocomplete over `text` in the textarea `input`. */
export function useMentionAutocomplete(room: Room, input: RefObject<HTMLTextAreaElement | null>, text: string, setText: (s: string) => void) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const me = useSession((s) => s.user?.id ?? '');
  const members = useMembers(room.id);
  const listId = useId();
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [picked, setPicked] = useState<Suggestion[]>([]);
  const mayAll = room.my_role === 'owner' || room.my_role === 'editor';

  const typing = activeMention(text, caret);
  const open = typing !== null && typing.start !== dismissed;
  const candidates = useMemo(
    () => (members.data?.members ?? []).map((m) => ({ id: m.user_id, name: nameOf(m) })),
    [members.data],
  );
  const options = open ? suggest(candidates, typing.query, me, mayAll, lang === 'en' ? 'all' : '所有人') : [];
  const shown = options.length > 0;
  const current = Math.min(active, Math.max(0, options.length - 1));

  const choose = (s: Suggestion) => {
    if (!typing) return;
    const next = insertMention(text, typing.start, caret, s.label);
    setText(next.text);
    setPicked((p) => [...p, s]);
    setActive(0);
    setCaret(next.caret);
    requestAnimationFrame(() => {
      const el = input.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };

  /** Follows the caret (typing, clicks, arrow keys). */
  const track = () => {
    const el = input.current;
    if (!el) return;
    setCaret(el.selectionStart ?? el.value.length);
    const now = activeMention(el.value, el.selectionStart ?? el.value.length);
    if (dismissed !== null && now?.start !== dismissed) setDismissed(null);
  };

  /** True when the key was the menu's. */
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (!shown || e.nativeEvent.isComposing) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const d = e.key === 'ArrowDown' ? 1 : -1;
      setActive((current + d + options.length) % options.length);
      return true;
    }
    if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      choose(options[current]!);
      return true;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      setDismissed(typing!.start);
      return true;
    }
    return false;
  };

  const optionId = (i: number) => `${listId}-${i}`;
  const inputProps = {
    role: 'combobox' as const,
    'aria-autocomplete': 'list' as const,
    'aria-expanded': shown,
    'aria-controls': shown ? listId : undefined,
    'aria-activedescendant': shown ? optionId(current) : undefined,
  };
  const menu = shown ? (
    <ul className="mention-menu" role="listbox" id={listId} aria-label={t('mention.suggestions')} data-testid="mention-suggestions">
      {options.map((s, i) => (
        <li
          key={s.id}
          id={optionId(i)}
          role="option"
          aria-selected={i === current}
          className={i === current ? 'active' : ''}
          // Keep the textarea's focus and caret; choose on the click (a tap too).
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => choose(s)}
        >
          <span className="mention-label">@{s.label}</span>
          <span className="muted">{s.all ? t('mention.everyone') : s.detail}</span>
        </li>
      ))}
    </ul>
  ) : null;

  return {
    menu,
    inputProps,
    onKeyDown,
    track,
    /** The metadata of sending `content` now. */
    metadata: (content: string) => mentionMetadata(content, picked),
    reset: () => { setPicked([]); setDismissed(null); setActive(0); },
  };
}

/** A message's text with its mentions highlighted (more strongly those of me). */
export function MessageText({ m, me, nameOf: name }: { m: Message; me: string; nameOf: (id: string) => string }) {
  const parts = segments(m.content, m, me, name);
  return (
    <>
      {parts.map((p, i) =>
        'mention' in p ? (
          <mark key={i} className={`mention ${p.me ? 'me' : ''}`} data-testid="mention" data-user={p.mention}>{p.text}</mark>
        ) : (
          p.text
        ),
      )}
    </>
  );
}

export { mentionsMe };
