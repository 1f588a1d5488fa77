// The room list and the open room. On a wide screen (SPLIT_QUERY) the list stays
// beside the room, mounted across room changes so that its scroll position and
// filters stay; on narrower ones a room takes the whole width. A room deleted
// permanently while open is left for the list, which says so.

import { useEffect } from 'react';
import { Outlet, useMatch, useNavigate } from 'react-router';
import { useT } from '../i18n';
import { useRoomGone, type GoneNotice } from '../stores/roomGone';
import { SPLIT_QUERY, useMediaQuery } from '../stores/split';
import { RoomListPage } from './RoomListPage';

export function RoomsLayout() {
  const roomId = useMatch('/rooms/:roomId')?.params.roomId ?? null;
  const wide = useMediaQuery(SPLIT_QUERY);
  const gone = useRoomGone((s) => (roomId ? s.gone[roomId] : undefined));
  const notice = useRoomGone((s) => s.notice);
  const nav = useNavigate();

  useEffect(() => {
    if (!gone) return;
    useRoomGone.setState({ notice: gone });
    nav('/', { replace: true });
  }, [gone]); // eslint-disable-line react-hooks/exhaustive-deps
  // The notice is about the room just left: opening another one ends it.
  useEffect(() => {
    const n = useRoomGone.getState().notice;
    if (roomId && n && n.roomId !== roomId) useRoomGone.getState().dismiss();
  }, [roomId]);

  const split = wide && !!roomId;
  return (
    <div className={split ? 'split' : 'single'} data-testid={split ? 'split-view' : undefined}>
      {(!roomId || wide) && (
        <div className="split-list">
          {notice && !gone && <GoneBanner notice={notice} />}
          <RoomListPage compact={split} activeId={roomId} />
        </div>
      )}
      {roomId && !gone && <div className="split-room" key={roomId}><Outlet /></div>}
    </div>
  );
}

function GoneBanner({ notice: n }: { notice: GoneNotice }) {
  const t = useT();
  const who = n.by || t('gone.admin');
  const text = n.by === null && n.title !== null ? t('gone.byMe', { title: n.title })
    : n.title !== null ? t('gone.byOther', { title: n.title, who })
    : t('gone.byOtherUntitled', { who });
  return (
    <div className="notice ok gone-notice" role="status" data-testid="room-gone-notice" data-by-me={n.by === null}>
      <span>{text}</span>
      <button type="button" className="btn small ghost" aria-label={t('close')} onClick={() => useRoomGone.getState().dismiss()}>✕</button>
    </div>
  );
}
