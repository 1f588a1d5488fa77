import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { SHOTS, USERS, newUserPage, openRoom, rest, shot, unique } from './helpers';

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

/** Switches the UI to English (the default is Traditional Chinese). */
async function english(page: Page) {
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('button', { name: '中文' })).toBeVisible();
}

/** A room with `n` messages by lin; `special` (index → text) replaces some of them. */
async function roomWithHistory(request: Parameters<typeof rest>[0], title: string, n: number, special: Record<number, string>) {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title, incident_type: 'equipment_failure', severity: 'medium', line: 'L3' });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const content = special[i] ?? `Routine check ${i}: readings normal`;
    const m = await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: `seed-${i}`, content });
    seqs.push(m.seq);
  }
  return { lin, room, seqs };
}

test('search in a room jumps to an old message, and the window meets the live tail', async ({ browser, request }) => {
  const tag = unique('T');
  const target = `三號線馬達過熱停機 ${tag}`;
  const { lin, room, seqs } = await roomWithHistory(request, unique('Line 3 motor'), 60, { 3: target });
  const page = await newUserPage(browser, USERS.lin);
  await english(page);
  await openRoom(page, room.id);
  const messages = page.getByTestId('message');
  await expect(messages.filter({ hasText: 'Routine check 59' })).toBeVisible();
  // The latest page holds 50: the target is not loaded.
  await expect(messages.filter({ hasText: target })).toHaveCount(0);

  await page.getByTestId('tab-search').click();
  const search = page.getByTestId('room-search');
  await expect(search.getByText(/One character is enough/)).toBeVisible();
  await search.getByTestId('search-input').fill('nothing like this 0xdead');
  await expect(search.getByTestId('search-none')).toContainText('No messages contain');
  await search.getByTestId('search-input').fill('過熱');
  const hit = search.getByTestId('search-hit');
  await expect(hit).toHaveCount(1);
  await expect(hit.locator('mark')).toHaveText('過熱');
  await expect(hit).toHaveAttribute('data-seq', String(seqs[3]));

  await hit.click();
  const found = messages.filter({ hasText: target });
  await expect(found).toBeVisible();
  await expect(found).toHaveClass(/msg-focus/);
  await expect(found).toBeInViewport();
  await shot(page, 'search');
  // The highlight is brief.
  await expect(found).not.toHaveClass(/msg-focus/, { timeout: 5000 });
  // A window of older history: the newest messages are not shown, nor is a live one.
  await expect(messages.filter({ hasText: 'Routine check 59' })).toHaveCount(0);
  await expect(page.getByTestId('jump-latest')).toBeVisible();
  await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'live-1', content: `Live while reading ${tag}` });
  // The window: 3 older messages, the hit and 24 newer ones (limit 50, half before).
  await expect(messages.filter({ hasText: 'Routine check 27' })).toHaveCount(1);
  await expect(messages.filter({ hasText: 'Routine check 28' })).toHaveCount(0);
  await expect(messages.filter({ hasText: `Live while reading ${tag}` })).toHaveCount(0);

  // Scrolling down loads newer pages until the window meets the live tail.
  for (let i = 0; i < 5 && (await page.getByTestId('load-newer').count()) > 0; i++) {
    await page.getByTestId('messages').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForTimeout(300);
  }
  await expect(page.getByTestId('load-newer')).toHaveCount(0);
  await expect(page.getByTestId('jump-latest')).toHaveCount(0);
  await expect(messages.filter({ hasText: `Live while reading ${tag}` })).toHaveCount(1);
  await expect(messages.filter({ hasText: 'Routine check 59' })).toHaveCount(1);
  const shown = await messages.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(shown).toEqual([...shown].sort((a, b) => a - b));
  expect(new Set(shown).size).toBe(shown.length);
  // Live again: a new message appears at the bottom.
  await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'live-2', content: `After the tail ${tag}` });
  await expect(messages.filter({ hasText: `After the tail ${tag}` })).toHaveCount(1);
  await page.context().close();
});

test('global search opens the room at the hit, on a phone', async ({ browser, request }) => {
  const tag = unique('LOT');
  const target = `Coolant leak near press 7, ${tag} quarantined`;
  const { room, seqs } = await roomWithHistory(request, unique('Press 7 coolant'), 60, { 5: target, 40: `Follow-up on ${tag}: cleaned` });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.locator('input[name=username]').fill(USERS.chen.id);
  await page.locator('input[name=password]').fill(USERS.chen.pw);
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'online');
  await english(page);

  await page.getByTestId('nav-search').click();
  await expect(page.getByRole('heading', { name: 'Search messages' })).toBeVisible();
  await page.getByTestId('search-input').fill(tag.toLowerCase());
  const hits = page.getByTestId('search-hit');
  await expect(hits).toHaveCount(2);
  // Newest first, each labelled with its room, the match marked whatever its case.
  await expect(hits.nth(0)).toContainText('Follow-up');
  await expect(hits.nth(1)).toContainText(room.title);
  await expect(hits.nth(1).locator('mark')).toHaveText(tag);
  await expect(page).toHaveURL(/\/search\?q=/);
  const overflow = await page.locator('main.content').evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);

  await hits.nth(1).click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${room.id}\\?at=${seqs[5]}$`));
  const found = page.getByTestId('message').filter({ hasText: target });
  await expect(found).toBeVisible();
  await expect(found).toHaveClass(/msg-focus/);
  await expect(found).toBeInViewport();
  await ctx.close();
});

test('the edited label opens the edit history with the earlier version', async ({ browser, request }) => {
  const { room } = await roomWithHistory(request, unique('Pump pressure'), 1, {});
  const page = await newUserPage(browser, USERS.lin);
  await english(page);
  await openRoom(page, room.id);
  const first = `Pump pressure 3.1 bar ${unique('v')}`;
  await page.getByTestId('composer').fill(first);
  await page.getByTestId('composer').press('Enter');
  await expect(page.getByTestId('message').filter({ hasText: first })).toHaveCount(1);
  const id = await page.getByTestId('message').filter({ hasText: first }).getAttribute('data-id');
  const msg = page.locator(`[data-testid="message"][data-id="${id}"]`);
  await msg.hover();
  await msg.getByRole('button', { name: 'Edit' }).click();
  await msg.getByRole('textbox', { name: 'Edit' }).fill('Pump pressure 3.4 bar after the valve was reset');
  await msg.getByRole('button', { name: 'Save' }).click();
  await expect(msg).toContainText('after the valve was reset');
  const edited = msg;
  await expect(edited.getByTestId('edited')).toHaveText('(edited)');

  await edited.getByTestId('edited').click();
  const dialog = page.getByRole('dialog', { name: 'Edit history' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('edit-version')).toHaveCount(1);
  await expect(dialog.getByTestId('edit-version')).toContainText('Version 1');
  await expect(dialog.getByTestId('edit-version')).toContainText(first);
  await expect(dialog.getByTestId('edit-current')).toContainText('Current');
  await expect(dialog.getByTestId('edit-current')).toContainText('after the valve was reset');
  await shot(page, 'edit-history');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  await page.context().close();
});
