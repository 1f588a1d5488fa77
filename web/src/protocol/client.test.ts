import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomEvent } from '../api/types';
import { AuthLostError, backoffDelay, ProtocolClient, type KeyValueStore, type SocketLike } from './client';

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  recv(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  ofType(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

class MemStore implements KeyValueStore {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

const ev = (seq: number, room = 'r1', kind = 'message.created'): RoomEvent => ({
  type: 'event', room_id: room, seq, kind, at: '2026-01-01T00:00:00Z', actor: 'a@x', data: { id: `m${seq}`, seq },
});

let ids = 0;
function make(opts: Partial<ConstructorParameters<typeof ProtocolClient>[0]> = {}) {
  const storage = (opts.storage as MemStore) ?? new MemStore();
  const client = new ProtocolClient({
    getTicket: async () => 'tkt',
    url: (t) => `ws://test/api/ws?ticket=${t}`,
    createSocket: (u) => new FakeSocket(u),
    storage,
    random: () => 0.5,
    newId: () => `c${++ids}`,
    ...opts,
  });
  const events: RoomEvent[] = [];
  const states: string[] = [];
  const authLost: string[] = [];
  const protocolErrors: number[] = [];
  client.listen({
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    onAuthLost: (r) => authLost.push(r),
    onProtocolError: (c) => protocolErrors.push(c),
  });
  return { client, storage, events, states, authLost, protocolErrors };
}

/** Lets the ticket promise resolve and the socket be created. */
async function flush() {
  await vi.advanceTimersByTimeAsync(0);
}
const last = () => FakeSocket.all[FakeSocket.all.length - 1];

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => vi.useRealTimers());

describe('backoff', () => {
  it('doubles up to the cap and jitters within [cap/2, cap]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(30_000, 500 * 2 ** attempt);
      expect(backoffDelay(attempt, () => 0, 500, 30_000)).toBe(cap / 2);
      expect(backoffDelay(attempt, () => 0.999999, 500, 30_000)).toBeLessThanOrEqual(cap);
      expect(backoffDelay(attempt, () => 0.999999, 500, 30_000)).toBeGreaterThan(cap * 0.99);
    }
    expect(backoffDelay(50, Math.random)).toBeLessThanOrEqual(30_000);
  });

  it('waits the jittered delay between attempts and resets after a connect', async () => {
    const { client, states } = make({ random: () => 0 });
    client.start();
    await flush();
    last().serverClose(1006);
    expect(states.at(-1)).toBe('offline');
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(249);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(2);
    last().serverClose(1006); // second failure: 500 ms
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(3);
    last().open();
    last().serverClose(1000); // after a successful open: back to 250 ms
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it('retries when the ticket request fails for network reasons', async () => {
    let fail = true;
    const { client } = make({ getTicket: async () => { if (fail) throw new Error('net'); return 't'; } });
    client.start();
    await flush();
    expect(FakeSocket.all).toHaveLength(0);
    fail = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.all).toHaveLength(1);
  });
});

describe('resume without gaps', () => {
  it('delivers in order, drops duplicates and resubscribes from the last seq after a reconnect', async () => {
    const { client, events } = make();
    client.subscribe('r1', 10);
    client.start();
    await flush();
    last().open();
    expect(last().ofType('subscribe')).toEqual([{ type: 'subscribe', room_id: 'r1', after_seq: 10 }]);
    last().recv({ type: 'subscribed', room_id: 'r1', head_seq: 12, online: [] });
    last().recv(ev(11));
    last().recv(ev(12));
    last().recv(ev(12)); // duplicate
    expect(events.map((e) => e.seq)).toEqual([11, 12]);

    last().serverClose(1001);
    await vi.advanceTimersByTimeAsync(1000);
    last().open();
    expect(last().ofType('subscribe')).toEqual([{ type: 'subscribe', room_id: 'r1', after_seq: 12 }]);
    last().recv(ev(12)); // replayed again: ignored
    last().recv(ev(13));
    expect(events.map((e) => e.seq)).toEqual([11, 12, 13]);
  });

  it('on a gap resubscribes with the last seq instead of delivering out of order', async () => {
    const { client, events } = make();
    client.subscribe('r1', 5);
    client.start();
    await flush();
    last().open();
    last().recv(ev(6));
    last().recv(ev(8)); // 7 is missing
    last().recv(ev(9));
    expect(events.map((e) => e.seq)).toEqual([6]);
    const subs = last().ofType('subscribe');
    expect(subs).toHaveLength(2); // one resubscribe, not one per early event
    expect(subs[1]).toEqual({ type: 'subscribe', room_id: 'r1', after_seq: 6 });
    last().recv({ type: 'subscribed', room_id: 'r1', head_seq: 9, online: [] });
    for (const s of [7, 8, 9]) last().recv(ev(s));
    expect(events.map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    expect(client.lastSeq('r1')).toBe(9);
  });

  it('takes the head from `subscribed` when subscribing without after_seq', async () => {
    const { client, events } = make();
    client.start();
    await flush();
    last().open();
    client.subscribe('r2');
    expect(last().ofType('subscribe')).toEqual([{ type: 'subscribe', room_id: 'r2' }]);
    last().recv({ type: 'subscribed', room_id: 'r2', head_seq: 40, online: ['a@x'] });
    last().recv(ev(41, 'r2'));
    last().recv(ev(43, 'r2'));
    expect(events.map((e) => e.seq)).toEqual([41]);
    expect(last().ofType('subscribe').at(-1)).toEqual({ type: 'subscribe', room_id: 'r2', after_seq: 41 });
  });

  it('ignores events of rooms it does not follow', async () => {
    const { client, events } = make();
    client.start();
    await flush();
    last().open();
    last().recv(ev(1, 'other'));
    expect(events).toHaveLength(0);
  });
});

describe('outbox', () => {
  it('keeps messages written offline and sends each once on connect; acks empty it', async () => {
    const { client, storage } = make({ storageKey: 'ob' });
    client.subscribe('r1', 0);
    client.send('r1', 'one');
    client.send('r1', 'two');
    expect(JSON.parse(storage.getItem('ob')!)).toHaveLength(2);
    client.start();
    await flush();
    last().open();
    const sends = last().ofType('send');
    expect(sends.map((s) => [s.client_id, s.content])).toEqual([['c' + (ids - 1), 'one'], ['c' + ids, 'two']]);
    for (const s of sends) last().recv({ type: 'ack', client_id: s.client_id, message_id: 'm', seq: 1, ref: s.ref });
    expect(client.pendingMessages()).toHaveLength(0);
    expect(storage.getItem('ob')).toBeNull();
    // A later reconnect sends nothing again.
    last().serverClose(1000);
    await vi.advanceTimersByTimeAsync(1000);
    last().open();
    expect(last().ofType('send')).toHaveLength(0);
  });

  it('resends unacknowledged messages with the same client_id after a drop', async () => {
    const { client } = make();
    client.start();
    await flush();
    last().open();
    const item = client.send('r1', 'hello');
    expect(last().ofType('send')).toHaveLength(1);
    last().serverClose(4008); // dropped before the ack
    await vi.advanceTimersByTimeAsync(1000);
    last().open();
    const again = last().ofType('send');
    expect(again).toHaveLength(1);
    expect(again[0].client_id).toBe(item.client_id); // server dedups on it
    last().recv({ type: 'ack', client_id: item.client_id, message_id: 'm1', seq: 3 });
    last().recv({ type: 'ack', client_id: item.client_id, message_id: 'm1', seq: 3 }); // repeated ack: harmless
    expect(client.pendingMessages()).toHaveLength(0);
  });

  it('survives a page reload through storage', async () => {
    const storage = new MemStore();
    const first = make({ storage, storageKey: 'ob' }).client;
    first.send('r1', 'typed before the reload');
    const { client } = make({ storage, storageKey: 'ob' });
    expect(client.pendingMessages().map((i) => i.content)).toEqual(['typed before the reload']);
    client.start();
    await flush();
    last().open();
    expect(last().ofType('send')[0].content).toBe('typed before the reload');
  });

  it('drops a message the server refuses for good and reports it; retries one it could not store', async () => {
    const { client } = make({ retrySendMs: 1000 });
    const failed: string[] = [];
    client.listen({ onSendFailed: (_i, code) => failed.push(code) });
    client.start();
    await flush();
    last().open();
    const a = client.send('r1', 'viewer says hi');
    const b = client.send('r1', 'db down');
    last().recv({ type: 'error', code: 'forbidden', message: 'viewer', ref: { send: a.client_id } });
    last().recv({ type: 'error', code: 'unavailable', message: 'db', ref: { send: b.client_id } });
    expect(failed).toEqual(['forbidden']);
    expect(client.pendingMessages().map((i) => i.client_id)).toEqual([b.client_id]);
    const before = last().ofType('send').length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(last().ofType('send').slice(before).map((s) => s.client_id)).toEqual([b.client_id]);
  });

  it('clears the outbox on logout when asked', () => {
    const { client, storage } = make({ storageKey: 'ob' });
    client.send('r1', 'x');
    client.stop(true);
    expect(storage.getItem('ob')).toBeNull();
  });
});

describe('close codes', () => {
  for (const code of [1000, 1001, 4008, 1006]) {
    it(`${code}: reconnects and resumes`, async () => {
      const { client, authLost } = make();
      client.subscribe('r1', 3);
      client.start();
      await flush();
      last().open();
      last().serverClose(code);
      await vi.advanceTimersByTimeAsync(600);
      expect(FakeSocket.all).toHaveLength(2);
      last().open();
      expect(last().ofType('subscribe')[0].after_seq).toBe(3);
      expect(authLost).toEqual([]);
    });
  }

  it('4001: stops and reports the lost session, no reconnect', async () => {
    const { client, authLost, states } = make();
    client.start();
    await flush();
    last().open();
    last().serverClose(4001);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(authLost).toEqual(['session_ended']);
    expect(states.at(-1)).toBe('stopped');
  });

  it('a 401 on the ticket request is a lost session too', async () => {
    const { client, authLost } = make({ getTicket: async () => { throw new AuthLostError('session_revoked'); } });
    client.start();
    await flush();
    expect(authLost).toEqual(['session_revoked']);
    expect(FakeSocket.all).toHaveLength(0);
  });

  for (const code of [1009, 4400]) {
    it(`${code}: reported as a protocol error, then resumes after a longer backoff`, async () => {
      const { client, protocolErrors } = make({ random: () => 0 });
      client.start();
      await flush();
      last().open();
      last().serverClose(code, 'bad');
      expect(protocolErrors).toEqual([code]);
      await vi.advanceTimersByTimeAsync(3999);
      expect(FakeSocket.all).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.all).toHaveLength(2);
    });
  }
});

describe('requests and liveness', () => {
  it('resolves edits on their ack and rejects on an error frame', async () => {
    const { client } = make();
    client.start();
    await flush();
    last().open();
    const ok = client.edit('r1', 'm1', 'new');
    const bad = client.react('r1', 'm1', '👍', true);
    const [e, r] = last().sent.slice(-2);
    last().recv({ type: 'ack', message_id: 'm1', seq: 9, ref: e.ref });
    last().recv({ type: 'error', code: 'forbidden', message: 'no', ref: r.ref });
    await expect(ok).resolves.toMatchObject({ seq: 9 });
    await expect(bad).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('rejects requests while offline', async () => {
    const { client } = make();
    await expect(client.remove('r1', 'm1')).rejects.toMatchObject({ code: 'offline' });
  });

  it('pings, and treats a silent socket as dead', async () => {
    const { client } = make({ pingIntervalMs: 20_000, deadAfterMs: 50_000 });
    client.start();
    await flush();
    last().open();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(last().ofType('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(FakeSocket.all.length).toBeGreaterThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('sends at most one typing frame per second and room', async () => {
    const { client } = make();
    client.subscribe('r1', 0);
    client.start();
    await flush();
    last().open();
    client.typing('r1');
    client.typing('r1');
    await vi.advanceTimersByTimeAsync(1000);
    client.typing('r1');
    expect(last().ofType('typing')).toHaveLength(2);
  });

  it('hands report_progress frames to the listener, apart from the room events', async () => {
    const { client, events } = make();
    const progress: unknown[] = [];
    client.listen({ onReportProgress: (f) => progress.push(f) });
    client.subscribe('r1', 0);
    client.start();
    await flush();
    last().open();
    const frame = { type: 'report_progress', room_id: 'r1', report_id: 'p1', status: 'failed', reason: 'no model' };
    last().recv(frame);
    expect(progress).toEqual([frame]);
    expect(events).toEqual([]);
  });

  it('hands notification frames to the listener without a subscription', async () => {
    const { client, events } = make();
    const got: unknown[] = [];
    client.listen({ onNotification: (f) => got.push(f) });
    client.start();
    await flush();
    last().open();
    const frame = {
      type: 'notification', ring: true,
      notification: { id: 'n1', kind: 'added', room_id: 'r9', room_title: 'Line 3', seq: 2, actor: 'lin@x',
        actor_name: 'Lin', text: 'Lin added you to Line 3', created_at: '2026-11-30T06:00:00Z', read_at: null },
    };
    last().recv(frame);
    expect(got).toEqual([frame]);
    expect(events).toEqual([]);
  });

  it('networkLost goes offline at once and reconnectNow skips the backoff', async () => {
    const { client, states } = make({ random: () => 1 });
    client.start();
    await flush();
    last().open();
    client.networkLost();
    expect(states.at(-1)).toBe('offline');
    client.reconnectNow();
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
  });
});
