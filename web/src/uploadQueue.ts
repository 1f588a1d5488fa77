// The upload queue behind the composer's file tray: files are staged (each with
// an optional caption), then sent a few at a time. Each file has its own progress
// and its own outcome: one refused or failed file does not stop the others, and a
// file still waiting or uploading can be cancelled. Framework-free so it can be
// tested without a browser; the React side subscribes to its snapshots.

import { checkFile, type Check } from './uploads';

export type UploadState = 'staged' | 'waiting' | 'uploading' | 'failed' | 'rejected';

/** Why a file did not upload: the client's own check, or the server's answer. */
export type UploadError =
  | { source: 'check'; check: Exclude<Check, { ok: true }> }
  | { source: 'server'; code: string; message: string };

export interface FileLike {
  name: string;
  type: string;
  size: number;
}

export interface UploadItem<F extends FileLike = File> {
  id: number;
  file: F;
  caption: string;
  state: UploadState;
  /** 0..1 of the bytes sent. */
  progress: number;
  error?: UploadError;
}

/** Starts one upload; `abort` makes `promise` reject with code `aborted`. */
export type Transport<F extends FileLike> = (
  file: F,
  caption: string,
  onProgress: (fraction: number) => void,
) => { promise: Promise<unknown>; abort: () => void };

/** The server's caption bound (docs/PROTOCOL.md, files). */
export const CAPTION_MAX = 2000;

export class UploadQueue<F extends FileLike = File> {
  private items: UploadItem<F>[] = [];
  private running = new Map<number, () => void>();
  private listeners = new Set<(items: readonly UploadItem<F>[]) => void>();
  private seq = 0;

  constructor(
    private transport: Transport<F>,
    private opts: { concurrency?: number; onUploaded?: (file: F) => void } = {},
  ) {}

  /** The current items, oldest first (a new array after every change). */
  snapshot(): readonly UploadItem<F>[] {
    return this.items;
  }

  subscribe(listener: (items: readonly UploadItem<F>[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stages `files`; those the client can already tell are refused are marked so. */
  add(files: F[]): void {
    const added = files.map((file): UploadItem<F> => {
      const check = checkFile(file);
      return check.ok
        ? { id: ++this.seq, file, caption: '', state: 'staged', progress: 0 }
        : { id: ++this.seq, file, caption: '', state: 'rejected', progress: 0, error: { source: 'check', check } };
    });
    this.set([...this.items, ...added]);
  }

  setCaption(id: number, caption: string): void {
    this.update(id, (x) => (x.state === 'staged' ? { ...x, caption: caption.slice(0, CAPTION_MAX) } : x));
  }

  /** How many staged files `send` would start. */
  stagedCount(): number {
    return this.items.filter((x) => x.state === 'staged').length;
  }

  /** Sends every staged file. */
  send(): void {
    this.set(this.items.map((x) => (x.state === 'staged' ? { ...x, state: 'waiting' } : x)));
    this.pump();
  }

  /** Sends a failed file again. */
  retry(id: number): void {
    this.update(id, (x) => (x.state === 'failed' ? { ...x, state: 'waiting', progress: 0, error: undefined } : x));
    this.pump();
  }

  /** Removes a file: a staged or waiting one never starts, an uploading one is aborted. */
  cancel(id: number): void {
    const abort = this.running.get(id);
    this.running.delete(id);
    this.set(this.items.filter((x) => x.id !== id));
    abort?.();
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 2;
    for (const item of this.items) {
      if (this.running.size >= limit) break;
      if (item.state !== 'waiting') continue;
      this.start(item);
    }
  }

  private start(item: UploadItem<F>): void {
    const { id, file, caption } = item;
    this.update(id, (x) => ({ ...x, state: 'uploading', progress: 0 }));
    const up = this.transport(file, caption, (p) => {
      if (this.running.has(id)) this.update(id, (x) => ({ ...x, progress: Math.max(0, Math.min(1, p)) }));
    });
    this.running.set(id, up.abort);
    up.promise.then(
      () => {
        if (!this.running.delete(id)) return;
        this.set(this.items.filter((x) => x.id !== id));
        this.opts.onUploaded?.(file);
        this.pump();
      },
      (e: { code?: string; message?: string }) => {
        // A cancelled upload is already gone from the list.
        if (!this.running.delete(id)) return;
        const error: UploadError = { source: 'server', code: e?.code ?? 'network', message: e?.message ?? '' };
        this.update(id, (x) => ({ ...x, state: 'failed', error }));
        this.pump();
      },
    );
  }

  private update(id: number, f: (x: UploadItem<F>) => UploadItem<F>): void {
    this.set(this.items.map((x) => (x.id === id ? f(x) : x)));
  }

  private set(items: UploadItem<F>[]): void {
    this.items = items;
    for (const l of this.listeners) l(items);
  }
}
