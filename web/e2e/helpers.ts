import { expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const AD = process.env.ANDON_AD_URL ?? 'http://127.0.0.1:8081';
export const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');

export const USERS = {
  admin: { id: 'admin@andon.test', pw: 'admin-pw' },
  lin: { id: 'lin@andon.test', pw: 'lin-pw' },
  chen: { id: 'chen@andon.test', pw: 'chen-pw' },
  wang: { id: 'wang@andon.test', pw: 'wang-pw' },
  maria: { id: 'maria@andon.test', pw: 'maria-pw' },
  kick: { id: 'kick@andon.test', pw: 'kick-pw' },
};
type U = { id: string; pw: string };

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Signs in through the login form. */
export async function login(page: Page, u: U) {
  await page.goto('/login');
  await page.locator('input[name=username]').fill(u.id);
  await page.locator('input[name=password]').fill(u.pw);
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'online');
}

export async function newUserPage(browser: Browser, u: U): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await login(page, u);
  return page;
}

/** A REST client signed in as `u`. */
export async function rest(request: APIRequestContext, u: U) {
  const r = await request.post('/api/auth/login', { data: { username: u.id, password: u.pw } });
  expect(r.status()).toBe(200);
  const { token } = await r.json();
  const headers = { Authorization: `Bearer ${token}` };
  return {
    token,
    async call(method: string, url: string, data?: unknown) {
      const res = await request.fetch(url, { method, headers, data });
      if (res.status() >= 400) throw new Error(`${method} ${url}: ${res.status()} ${await res.text()}`);
      return res.status() === 204 ? null : res.json();
    },
    /** A multipart upload of one file (`POST /api/rooms/{id}/files`). */
    async upload(roomId: string, name: string, mimeType: string, buffer: Buffer, caption?: string) {
      const res = await request.post(`/api/rooms/${roomId}/files`, {
        headers, multipart: { file: { name, mimeType, buffer }, ...(caption ? { caption } : {}) },
      });
      if (res.status() >= 400) throw new Error(`upload ${name}: ${res.status()} ${await res.text()}`);
      return res.json();
    },
  };
}

let n = 0;
export function unique(s: string) {
  return `${s} ${Date.now().toString(36)}${++n}`;
}

export async function openRoom(page: Page, id: string) {
  await page.goto(`/rooms/${id}`);
  await expect(page.getByTestId('messages')).toBeVisible();
  // Subscribed on the socket: live events and typing frames flow from here on.
  await expect(page.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
}
