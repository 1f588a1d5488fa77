// One protocol client per signed-in session, wired to the live store, the query
// cache (room, members and files change through events) and the session store.

import type { QueryClient } from '@tanstack/react-query';
import { api, ApiError } from './api/http';
import type { Report, ReportDetail, ReportList, Room } from './api/types';
import { AuthLostError, ProtocolClient, type SocketLike } from './protocol/client';
import { translate, useLang } from './i18n';
import { ring } from './ring';
import { useLive } from './stores/live';
import { useRoomGone } from './stores/roomGone';
import { notificationText, useNotifications } from './stores/notifications';
import { useReads } from './stores/reads';
import { progressList, progressReport, upsertReport, type ReportProgress } from './stores/reports';
import { useSession } from './stores/session';

let client: ProtocolClient | null = null;
let unhook: (() => void) | null = null;

export function getClient(): ProtocolClient | null {
  return client;
}

export function startConnection(userId: string, queryClient: QueryClient): ProtocolClient {
  if (client) return client;
  const live = useLive.getState();
  const c = new ProtocolClient({
    getTicket: async () => {
      try {
        const r = await api<{ ticket: string }>('POST', '/api/ws-ticket');
        return r.ticket;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw new AuthLostError(e.code);
        throw e;
      }
    },
    url: (ticket) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws?ticket=${encodeURIComponent(ticket)}`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    storage: localStorage,
    storageKey: `andon.outbox.${userId}`,
  });
  const roomKinds = new Set(['room.updated', 'room.status_changed', 'room.acknowledged', 'room.contained', 'ownership.transferred']);
  // The room list shows which rooms still wait for someone to take them on.
  const listKinds = new Set(['room.acknowledged', 'room.status_changed']);
  const memberKinds = new Set(['member.added', 'member.removed', 'member.role_changed', 'ownership.transferred']);
  const off = c.listen({
    onState: (s, info) => useLive.getState().setConnection(s, info.retryInMs),
    onEvent: (e) => {
      useLive.getState().event(e);
      if (roomKinds.has(e.kind) && e.data?.room) {
        queryClient.setQueryData<Room>(['room', e.room_id], (old) => (old ? { ...old, ...e.data.room } : e.data.room));
      } else if (roomKinds.has(e.kind)) {
        void queryClient.invalidateQueries({ queryKey: ['room', e.room_id] });
      }
      if (memberKinds.has(e.kind)) {
        void queryClient.invalidateQueries({ queryKey: ['members', e.room_id] });
        void queryClient.invalidateQueries({ queryKey: ['room', e.room_id] });
      }
      if (e.kind === 'file.added' || e.kind === 'file.deleted') {
        void queryClient.invalidateQueries({ queryKey: ['files', e.room_id] });
      }
      if (e.kind === 'room.deleted' || listKinds.has(e.kind)) void queryClient.invalidateQueries({ queryKey: ['rooms'] });
      if (e.kind === 'room.deleted') roomDeleted(queryClient, e.room_id, e.actor === userId ? null : e.actor);
      if (e.kind === 'report.created' && e.data?.report) {
        const r = e.data.report as Report;
        queryClient.setQueryData<ReportList>(['reports', e.room_id], (old) => (old ? upsertReport(old, r) : old));
        void queryClient.invalidateQueries({ queryKey: ['report', e.room_id, r.id] });
      }
    },
    onReportProgress: (p) => reportProgress(queryClient, p),
    onNotification: ({ notification: n, ring: rings }) => {
      useNotifications.getState().receive(n);
      // Added to a room: it is in the room list now. Mentioned: its badge counts it.
      void queryClient.invalidateQueries({ queryKey: ['rooms'] });
      if (!rings) return;
      const lang = useLang.getState().lang;
      ring(translate(lang, 'app'), notificationText(lang, n), n.id, () => {
        // Into the room without reloading the app (the router follows popstate).
        history.pushState(null, '', `/rooms/${n.room_id}`);
        dispatchEvent(new PopStateEvent('popstate'));
      });
    },
    onSubscribed: (room, _head, online) => {
      useLive.getState().setOnline(room, online);
      useLive.getState().setSubscribed(room, true);
    },
    onUnsubscribed: (room, reason) => {
      if (reason === 'deleted') roomDeleted(queryClient, room, '');
      useLive.getState().setSubscribed(room, false);
      void queryClient.invalidateQueries({ queryKey: ['room', room] });
      void queryClient.invalidateQueries({ queryKey: ['rooms'] });
    },
    onTyping: (f) => useLive.getState().typingFrom(f.room_id, f.user, f.display_name, f.expires_in_ms ?? 3000),
    onPresence: (f) => useLive.getState().presence(f.room_id, f.online, f.offline),
    onRead: (f) => useReads.getState().read(f.room_id, f.user, f.seq),
    onOutbox: (items) => useLive.getState().setOutbox(items),
    onSendFailed: (item, code, message) => useLive.getState().fail({ item, code, message }),
    onAuthLost: (reason) => {
      stopConnection(false);
      useSession.getState().signOut(reason === 'session_ended' ? 'session_ended' : reason);
    },
    onProtocolError: (code, reason) => useLive.getState().setProtocolError(`${code} ${reason}`.trim()),
  });
  live.setOutbox(c.pendingMessages());
  const goneOffline = () => c.networkLost();
  const backOnline = () => c.reconnectNow();
  window.addEventListener('offline', goneOffline);
  window.addEventListener('online', backOnline);
  unhook = () => {
    off();
    window.removeEventListener('offline', goneOffline);
    window.removeEventListener('online', backOnline);
  };
  client = c;
  c.start();
  return c;
}

/**
 * A room deleted permanently (its `room.deleted` event, or an `unsubscribed` frame
 * with reason `deleted`): recorded with its title while the cache still has it, so
 * that the room's page can leave for the list and say what happened. `by` is who
 * deleted it: null for this user, "" when the frame does not say.
 */
function roomDeleted(queryClient: QueryClient, roomId: string, by: string | null) {
  const title = queryClient.getQueryData<Room>(['room', roomId])?.title ?? null;
  useRoomGone.getState().deleted({ roomId, title, by });
  void queryClient.invalidateQueries({ queryKey: ['rooms'] });
}

/** A report's stage, from a `report_progress` frame, into the cached list and detail. */
function reportProgress(queryClient: QueryClient, p: ReportProgress) {
  const list = queryClient.getQueryData<ReportList>(['reports', p.room_id]);
  const next = list && progressList(list, p);
  if (next) queryClient.setQueryData(['reports', p.room_id], next);
  else void queryClient.invalidateQueries({ queryKey: ['reports', p.room_id] });
  const key = ['report', p.room_id, p.report_id];
  queryClient.setQueryData<ReportDetail>(key, (old) => (old ? progressReport(old, p) : old));
  // A finished report's file name, size and sections come with the REST answer.
  if (p.status === 'completed' || p.status === 'failed') {
    void queryClient.invalidateQueries({ queryKey: ['reports', p.room_id] });
    void queryClient.invalidateQueries({ queryKey: key });
  }
}

export function stopConnection(clearOutbox: boolean) {
  unhook?.();
  unhook = null;
  client?.stop(clearOutbox);
  client = null;
  useLive.getState().clear();
  useNotifications.getState().clear();
}
