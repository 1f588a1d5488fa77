import { describe, expect, it } from 'vitest';
import { CAPTION_MAX, UploadQueue, type FileLike } from './uploadQueue';

type Pending = {
  file: FileLike;
  caption: string;
  progress: (p: number) => void;
  resolve: () => void;
  reject: (e: { code: string; message: string }) => void;
  aborted: boolean;
};

/** A transport whose uploads the test finishes by hand. */
function harness(concurrency = 2) {
  const started: Pending[] = [];
  const uploaded: string[] = [];
  const queue = new UploadQueue<FileLike>((file, caption, progress) => {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    const p: Pending = { file, caption, progress, resolve, reject, aborted: false };
    started.push(p);
    return { promise, abort: () => { p.aborted = true; reject({ code: 'aborted', message: 'aborted' }); } };
  }, { concurrency, onUploaded: (f) => uploaded.push(f.name) });
  const state = () => queue.snapshot().map((x) => `${x.file.name}:${x.state}`);
  return { queue, started, uploaded, state };
}

const png = (name: string, size = 1000) => ({ name, type: 'image/png', size });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('upload queue', () => {
  it('stages files with captions, then sends them a few at a time with their own progress', async () => {
    const { queue, started, uploaded, state } = harness(2);
    queue.add([png('a.png'), png('b.png'), { name: 'c.pdf', type: 'application/pdf', size: 10 }]);
    expect(state()).toEqual(['a.png:staged', 'b.png:staged', 'c.pdf:staged']);
    expect(started).toHaveLength(0);
    queue.setCaption(queue.snapshot()[0].id, 'Tear at roller 4');
    queue.send();
    expect(state()).toEqual(['a.png:uploading', 'b.png:uploading', 'c.pdf:waiting']);
    expect(started.map((s) => [s.file.name, s.caption])).toEqual([['a.png', 'Tear at roller 4'], ['b.png', '']]);

    started[1].progress(0.5);
    expect(queue.snapshot().map((x) => x.progress)).toEqual([0, 0.5, 0]);

    started[0].resolve();
    await flush();
    expect(uploaded).toEqual(['a.png']);
    expect(state()).toEqual(['b.png:uploading', 'c.pdf:uploading']);
    started[1].resolve();
    started[2].resolve();
    await flush();
    expect(state()).toEqual([]);
    expect(uploaded).toEqual(['a.png', 'b.png', 'c.pdf']);
  });

  it('keeps the server reason of a failed file while the others go on, and can retry it', async () => {
    const { queue, started, uploaded, state } = harness(3);
    queue.add([png('a.png'), png('fake.png'), png('c.png')]);
    queue.send();
    started[1].reject({ code: 'unsupported_media_type', message: 'not an image' });
    await flush();
    expect(state()).toEqual(['a.png:uploading', 'fake.png:failed', 'c.png:uploading']);
    expect(queue.snapshot()[1].error).toEqual({ source: 'server', code: 'unsupported_media_type', message: 'not an image' });
    started[0].resolve();
    started[2].resolve();
    await flush();
    expect(uploaded).toEqual(['a.png', 'c.png']);
    expect(state()).toEqual(['fake.png:failed']);

    queue.retry(queue.snapshot()[0].id);
    expect(state()).toEqual(['fake.png:uploading']);
    expect(queue.snapshot()[0].error).toBeUndefined();
  });

  it('refuses what the client can already tell, without sending it', () => {
    const { queue, started, state } = harness();
    queue.add([{ name: 'tool.exe', type: 'application/x-msdownload', size: 2 }, png('huge.png', 11 * 1024 * 1024), png('ok.png')]);
    expect(state()).toEqual(['tool.exe:rejected', 'huge.png:rejected', 'ok.png:staged']);
    expect(queue.snapshot()[0].error).toEqual({ source: 'check', check: { ok: false, reason: 'type' } });
    expect(queue.snapshot()[1].error).toMatchObject({ source: 'check', check: { reason: 'size', kind: 'image' } });
    expect(queue.stagedCount()).toBe(1);
    queue.send();
    expect(started.map((s) => s.file.name)).toEqual(['ok.png']);
  });

  it('cancels a waiting file before it starts and aborts an uploading one; the rest continue', async () => {
    const { queue, started, uploaded, state } = harness(1);
    queue.add([png('a.png'), png('b.png'), png('c.png')]);
    queue.send();
    const [a, b, c] = queue.snapshot();
    queue.cancel(b.id);
    expect(state()).toEqual(['a.png:uploading', 'c.png:waiting']);

    queue.cancel(a.id);
    expect(started[0].aborted).toBe(true);
    expect(state()).toEqual(['c.png:uploading']);
    await flush();
    // The aborted upload's rejection does not bring it back as failed.
    expect(state()).toEqual(['c.png:uploading']);
    expect(started.map((s) => s.file.name)).toEqual(['a.png', 'c.png']);
    // Progress reported after a cancel is ignored.
    started[0].progress(0.9);
    started[1].resolve();
    await flush();
    expect(uploaded).toEqual(['c.png']);
    expect(queue.snapshot().find((x) => x.id === c.id)).toBeUndefined();
  });

  it('bounds captions to the server limit and only while staged', () => {
    const { queue } = harness();
    queue.add([png('a.png')]);
    const id = queue.snapshot()[0].id;
    queue.setCaption(id, 'x'.repeat(CAPTION_MAX + 10));
    expect(queue.snapshot()[0].caption).toHaveLength(CAPTION_MAX);
    queue.send();
    queue.setCaption(id, 'changed');
    expect(queue.snapshot()[0].caption).toHaveLength(CAPTION_MAX);
  });
});
