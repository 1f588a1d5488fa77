// The REST client: one fetch wrapper that adds the bearer token, turns every error
// into an ApiError with the server's stable code, and reports 401s to the session.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public retryAfter?: number,
  ) {
    super(message);
  }
}

type Hooks = { token: () => string | null; unauthorized: (code: string, message: string) => void };
let hooks: Hooks = { token: () => null, unauthorized: () => {} };

/** Wired once by the session store (kept out of this module so it stays framework-free). */
export function configureHttp(h: Hooks) {
  hooks = h;
}

export function authHeader(): Record<string, string> {
  const t = hooks.token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function toError(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && typeof body.code === 'string') {
      code = body.code;
      message = body.message ?? message;
    }
  } catch {
    /* not JSON */
  }
  const ra = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, code, message, Number.isFinite(ra) && ra > 0 ? ra : undefined);
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { auth?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.auth !== false) Object.assign(headers, authHeader());
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && opts.auth !== false) hooks.unauthorized(err.code, err.message);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Fetches a protected binary (file content, thumbnail) as a Blob. */
export async function fetchBlob(path: string): Promise<Blob> {
  const res = await fetch(path, { headers: authHeader() });
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) hooks.unauthorized(err.code, err.message);
    throw err;
  }
  return res.blob();
}

/** Multipart upload with progress events (fetch has no upload progress). */
export function upload<T>(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): { promise: Promise<T>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<T>((resolve, reject) => {
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: any = null; // eslint-disable-line @typescript-eslint/no-explicit-any
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* empty */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as T);
      } else {
        const err = new ApiError(xhr.status, body?.code ?? 'http_' + xhr.status, body?.message ?? xhr.statusText);
        if (xhr.status === 401) hooks.unauthorized(err.code, err.message);
        reject(err);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'aborted'));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
