// Issue 20 screens: room templates (admin), permanent room deletion, the desktop
// split view, a room on a phone, and the English UI.

import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { SHOTS, USERS, login, newUserPage, openRoom, rest, shot, unique } from './helpers';

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

/** Width the page can scroll sideways (0 when nothing overflows). */
const sideways = (page: Page) => page.evaluate(() => {
  const d = document.documentElement;
  const main = document.querySelector('main.content')!;
  return Math.max(d.scrollWidth - d.clientWidth, main.scrollWidth - main.clientWidth);
});

test('room templates: an admin creates, edits and deletes one, refusals show by their field; a room from it gets its members; others are refused', async ({ page, browser, request }) => {
  // Known by name from their first sign-in.
  await rest(request, USERS.wang);
  await rest(request, USERS.maria);

  // Not a system administrator: no link, and the page says why.
  const lin = await newUserPage(browser, USERS.lin);
  await expect(lin.getByTestId('nav-admin')).toHaveCount(0);
  await lin.goto('/admin/templates');
  await expect(lin.getByTestId('templates-forbidden')).toContainText('只有系統管理員可以管理事件室範本');
  await expect(lin.getByTestId('tpl-new')).toHaveCount(0);

  await login(page, USERS.admin);
  await page.getByTestId('nav-admin').click();
  await page.getByTestId('nav-templates').click();
  await expect(page).toHaveURL(/\/admin\/templates$/);
  await expect(page.getByRole('heading', { name: '事件室範本' })).toBeVisible();

  // Create, with one e-mail the server refuses: said next to that row.
  const name = unique('Mixer overload');
  await page.getByTestId('tpl-new').click();
  const form = page.getByTestId('tpl-form');
  await form.locator('input[name=name]').fill(name);
  await form.locator('select[name=incident_type]').selectOption('equipment_failure');
  await form.locator('select[name=default_severity]').selectOption('critical');
  await form.locator('textarea[name=default_description]').fill('1. Stop the mixer\n2. Call maintenance');
  const row = (i: number) => form.getByTestId('tpl-member').nth(i);
  await form.getByTestId('tpl-add-member').click();
  await row(0).locator('input[name=member-email]').fill(USERS.wang.id);
  await form.getByTestId('tpl-add-member').click();
  await row(1).locator('input[name=member-email]').fill('maria at andon');
  await row(1).locator('select[name=member-role]').selectOption('viewer');
  await form.getByTestId('tpl-save').click();
  await expect(row(1).getByTestId('tpl-member-error')).toHaveText('「maria at andon」不是有效的電子郵件地址。');
  await expect(row(1).locator('input[name=member-email]')).toHaveAttribute('aria-invalid', 'true');
  await expect(row(0).locator('input[name=member-email]')).not.toHaveAttribute('aria-invalid');
  await shot(page, 'templates-admin');
  await row(1).locator('input[name=member-email]').fill(USERS.maria.id);
  await expect(form.getByTestId('tpl-member-error')).toHaveCount(0);
  await form.getByTestId('tpl-save').click();
  await expect(page.getByTestId('tpl-done')).toHaveText(`已建立範本「${name}」`);
  const card = page.getByTestId('template').filter({ hasText: name });
  await expect(card.getByTestId('tpl-member-count')).toHaveText('2 位預設成員');

  const admin = await rest(request, USERS.admin);
  const stored = async (n: string) => ((await admin.call('GET', '/api/templates')).templates as { name: string }[]).find((x) => x.name === n);
  expect(await stored(name)).toMatchObject({
    incident_type: 'equipment_failure', default_severity: 'critical', default_description: '1. Stop the mixer\n2. Call maintenance',
    default_members: [{ user_id: USERS.wang.id, role: 'editor' }, { user_id: USERS.maria.id, role: 'viewer' }],
  });

  // Edit: another name and severity; the form starts from what is stored.
  const edited = `${name} (L2)`;
  await card.getByTestId('tpl-edit').click();
  await expect(form.locator('input[name=name]')).toHaveValue(name);
  await expect(row(1).locator('select[name=member-role]')).toHaveValue('viewer');
  await form.locator('input[name=name]').fill(edited);
  await form.locator('select[name=default_severity]').selectOption('high');
  await form.getByTestId('tpl-save').click();
  await expect(page.getByTestId('tpl-done')).toHaveText(`已儲存範本「${edited}」`);
  expect(await stored(edited)).toMatchObject({ default_severity: 'high', default_members: [{ user_id: USERS.wang.id }, { user_id: USERS.maria.id }] });
  expect(await stored(name)).toBeUndefined();

  // A taken name (409), in English: next to the name.
  const other = unique('Taken name');
  await admin.call('POST', '/api/templates', { name: other, incident_type: 'other', default_severity: 'low' });
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Room templates' })).toBeVisible();
  await page.getByTestId('template').filter({ hasText: edited }).getByTestId('tpl-edit').click();
  await form.locator('input[name=name]').fill(other);
  await form.getByTestId('tpl-save').click();
  await expect(form.getByTestId('tpl-name-error')).toHaveText('A template with this name already exists; choose another name.');
  await expect(form.locator('input[name=name]')).toHaveAttribute('aria-invalid', 'true');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: '中文' }).click();
  expect(await stored(edited)).toBeDefined();

  // A room created from it gets its default members.
  await lin.goto('/');
  await lin.getByTestId('new-room').click();
  const dialog = lin.getByRole('dialog');
  await dialog.locator('select[name=template]').selectOption({ label: edited });
  await expect(dialog.locator('select[name=severity]')).toHaveValue('high');
  await expect(dialog.getByText('範本會加入 2 位預設成員')).toBeVisible();
  await dialog.locator('input[name=title]').fill(unique('Mixer 2 overload'));
  await dialog.getByRole('button', { name: '建立' }).click();
  await lin.getByTestId('tab-members').click();
  await expect(lin.getByTestId('member')).toHaveCount(3);
  await expect(lin.getByTestId('members-panel')).toContainText(USERS.wang.id);
  await expect(lin.getByTestId('members-panel')).toContainText(USERS.maria.id);
  await lin.context().close();

  // Delete, after confirming.
  await page.getByTestId('template').filter({ hasText: edited }).getByTestId('tpl-delete').click();
  const confirm = page.getByTestId('tpl-delete-dialog');
  await expect(confirm).toContainText(`確定要刪除範本「${edited}」嗎？`);
  await confirm.getByTestId('tpl-delete-confirm').click();
  await expect(page.getByTestId('tpl-done')).toHaveText(`已刪除範本「${edited}」`);
  await expect(page.getByTestId('template').filter({ hasText: edited })).toHaveCount(0);
  expect(await stored(edited)).toBeUndefined();
  await admin.call('DELETE', `/api/templates/${(await stored(other) as unknown as { id: string }).id}`);

  // On a phone: the list and the form fit the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('tpl-new').click();
  await expect(form).toBeVisible();
  expect(await sideways(page)).toBeLessThanOrEqual(0);
  await form.getByRole('button', { name: '取消' }).click();
  expect(await sideways(page)).toBeLessThanOrEqual(0);
});

test('permanent deletion: the exact title enables it; someone viewing the room is told and sent to the list; the room is gone', async ({ page, browser, request }) => {
  const admin = await rest(request, USERS.admin);
  const title = unique('Paint booth 2 fire alarm');
  const room = await admin.call('POST', '/api/rooms', { title, incident_type: 'other', severity: 'high', line: 'P2' });
  await admin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.lin.id, role: 'editor' });

  // Only system administrators are offered it.
  const lin = await newUserPage(browser, USERS.lin);
  await openRoom(lin, room.id);
  await lin.getByTestId('tab-settings').click();
  await expect(lin.getByTestId('settings-panel')).toBeVisible();
  await expect(lin.getByTestId('danger-zone')).toHaveCount(0);

  await login(page, USERS.admin);
  await openRoom(page, room.id);
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('delete-room').click();
  const dialog = page.getByTestId('delete-room-dialog');
  await expect(dialog).toContainText('此動作無法復原');
  const typed = dialog.locator('input[name=confirm-title]');
  const go = dialog.getByTestId('delete-room-confirm');
  await expect(go).toBeDisabled();
  for (const wrong of [title.slice(0, -1), title.toUpperCase(), `${title} `]) {
    await typed.fill(wrong);
    await expect(go).toBeDisabled();
    await expect(dialog).toContainText('與事件室的標題不符');
  }
  // Enter does not get around it either.
  await typed.press('Enter');
  await expect(dialog).toBeVisible();
  await typed.fill(title);
  await expect(go).toBeEnabled();
  await shot(page, 'delete-room');
  await go.click();

  // The admin: back at the list, told it is done, the room not in it.
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('room-gone-notice')).toContainText(`已永久刪除事件室「${title}」。`);
  await page.getByRole('searchbox').first().fill(title);
  await expect(page).toHaveURL(/q=/);
  await expect(page.getByTestId('room-card').filter({ hasText: title })).toHaveCount(0);

  // The other user, who was viewing it: told by whom, and on the list.
  await expect(lin).toHaveURL(/\/$/);
  await expect(lin.getByTestId('room-gone-notice')).toContainText(`事件室「${title}」已被 ${USERS.admin.id} 永久刪除，您已離開該事件室。`);
  await expect(lin.getByTestId('room-main')).toHaveCount(0);
  await expect(lin.getByTestId('room-card').filter({ hasText: title })).toHaveCount(0);
  // Its address finds nothing.
  await lin.goto(`/rooms/${room.id}`);
  await expect(lin.getByRole('heading', { name: '找不到頁面' })).toBeVisible();
  await expect(admin.call('GET', `/api/rooms/${room.id}`)).rejects.toThrow(/404/);
  await lin.context().close();
});

test('desktop split view: the list stays beside the room, marks it, and keeps its filter and scroll when switching', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const tag = unique('SPLIT').replace(' ', '-');
  const rooms: { id: string; title: string }[] = [];
  for (let i = 1; i <= 14; i++) {
    rooms.push(await lin.call('POST', '/api/rooms', {
      title: `Station ${i} torque out of range`, incident_type: 'quality_issue', severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
      line: tag, equipment: `TQ-${i}`,
    }));
  }
  // Not this test's: hidden by the filter.
  await lin.call('POST', '/api/rooms', { title: unique('Elsewhere'), incident_type: 'other', severity: 'low' });

  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  await login(page, USERS.lin);
  await page.getByRole('searchbox').first().fill(tag);
  await expect(page).toHaveURL(/q=/);
  await expect(page.getByTestId('room-card')).toHaveCount(14);
  const newest = rooms[rooms.length - 1];
  await page.getByTestId('room-card').filter({ hasText: newest.title }).getByRole('link', { name: newest.title }).click();

  // Both columns.
  await expect(page.getByTestId('split-view')).toBeVisible();
  await expect(page.getByRole('heading', { name: newest.title })).toBeVisible();
  await expect(page.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
  const list = page.getByTestId('split-room');
  await expect(list).toHaveCount(14);
  await expect(page.getByRole('searchbox').first()).toHaveValue(tag);
  await expect(list.filter({ hasText: newest.title })).toHaveAttribute('data-active', 'true');
  await expect(list.filter({ has: page.locator('[aria-current=page]') })).toHaveCount(1);
  const listBox = await page.locator('.split-list').boundingBox();
  const roomBox = await page.getByTestId('room-main').boundingBox();
  expect(listBox!.x + listBox!.width).toBeLessThanOrEqual(roomBox!.x + 1);
  expect(roomBox!.width).toBeGreaterThan(700);
  await page.getByTestId('composer').fill('Torque wrench recalibrated.');
  await page.getByTestId('composer').press('Enter');
  await expect(page.getByTestId('message').filter({ hasText: 'Torque wrench recalibrated.' })).toHaveCount(1);
  await shot(page, 'split-view');

  // Scrolled down the list, another room: the list is where it was, still filtered.
  const column = page.locator('.split-list');
  await column.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  const scrolled = await column.evaluate((el) => el.scrollTop);
  expect(scrolled).toBeGreaterThan(100);
  const oldest = rooms[0];
  await list.filter({ hasText: oldest.title }).getByRole('link').click();
  await expect(page.getByRole('heading', { name: oldest.title })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/rooms/${oldest.id}\\?.*q=`));
  await expect(list.filter({ hasText: oldest.title })).toHaveAttribute('data-active', 'true');
  await expect(list.filter({ hasText: newest.title })).toHaveAttribute('data-active', 'false');
  expect(await column.evaluate((el) => el.scrollTop)).toBe(scrolled);
  await expect(page.getByRole('searchbox').first()).toHaveValue(tag);
  await expect(list).toHaveCount(14);

  // Narrower than the split: the room alone.
  await page.setViewportSize({ width: 1000, height: 900 });
  await expect(page.getByTestId('split-view')).toHaveCount(0);
  await expect(page.getByTestId('split-room')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: oldest.title })).toBeVisible();
  await ctx.close();
});

test('a room on a phone: the composer at the bottom, a message sent, nothing wider than the screen, 44 px targets', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const title = unique('Forklift battery swelling at dock 3, charging bay B');
  const room = await lin.call('POST', '/api/rooms', {
    title, incident_type: 'equipment_failure', severity: 'critical', location: 'Warehouse dock 3', line: 'DOCK-3', equipment: 'FL-0042',
    lots: ['W-7781', 'W-7782', 'W-7783'], description: 'Battery case bulging; the forklift is parked outside, away from the racks.',
  });
  await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'phone-1', content: 'Area cordoned off, fire extinguisher at hand. https://example.test/a/very/long/link/that/should/wrap/instead/of/widening/the/page' });

  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  await login(page, USERS.lin);
  const meta = await page.locator('meta[name=viewport]').getAttribute('content');
  expect(meta).toContain('viewport-fit=cover');
  expect(meta).toContain('interactive-widget=resizes-content');
  await page.getByRole('searchbox').first().fill(title);
  await page.getByTestId('room-card').filter({ hasText: title }).getByRole('link', { name: '開啟' }).tap();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
  // One column: no list beside the room.
  await expect(page.getByTestId('split-room')).toHaveCount(0);

  const composer = page.getByTestId('composer');
  await expect(composer).toBeInViewport();
  const bottom = async () => {
    const b = await page.locator('.composer-wrap').boundingBox();
    return b!.y + b!.height;
  };
  const vh = page.viewportSize()!.height;
  expect(await bottom()).toBeLessThanOrEqual(vh + 1);
  expect(await bottom()).toBeGreaterThan(vh - 4);

  await composer.tap();
  await composer.fill('Battery removed with the spill kit ready.');
  await page.getByRole('button', { name: '送出' }).tap();
  await expect(page.getByTestId('message').filter({ hasText: 'Battery removed' })).toHaveCount(1);
  await expect(composer).toHaveValue('');
  // Touch has no hover: a message's actions show once it is tapped, on a row of
  // their own, so every message's text keeps the width of the screen.
  const sent = page.getByTestId('message').filter({ hasText: 'Battery removed' });
  await expect(sent.locator('.msg-actions')).toBeHidden();
  for (const body of await page.getByTestId('message').locator('.msg-body').all()) {
    expect((await body.boundingBox())!.width).toBeGreaterThan(300);
  }
  await sent.locator('.msg-text').tap();
  await expect(sent.locator('.msg-actions')).toBeVisible();
  await expect(page.getByTestId('message').filter({ hasText: 'Area cordoned' }).locator('.msg-actions')).toBeHidden();
  expect(await sideways(page)).toBeLessThanOrEqual(0);
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);

  // Tap targets.
  const targets = [
    page.getByRole('button', { name: '送出' }),
    page.getByRole('button', { name: '附加檔案' }),
    page.getByTestId('tab-members'), page.getByTestId('tab-files'), page.getByTestId('tab-pins'), page.getByTestId('tab-reports'), page.getByTestId('tab-settings'),
    page.getByTestId('acknowledge'),
  ];
  for (const t of targets) {
    const b = await t.boundingBox();
    expect(b, await t.evaluate((el) => el.outerHTML.slice(0, 80))).not.toBeNull();
    expect(Math.min(b!.width, b!.height)).toBeGreaterThanOrEqual(44);
  }
  await shot(page, 'room-phone');

  // The on-screen keyboard, as `interactive-widget=resizes-content` gives it: the
  // layout shrinks, the composer stays right above it.
  await page.setViewportSize({ width: 390, height: 500 });
  await expect(composer).toBeInViewport();
  expect(await bottom()).toBeLessThanOrEqual(501);
  expect(await bottom()).toBeGreaterThan(496);
  expect(await sideways(page)).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 390, height: 844 });

  // The side panels fit too.
  await page.getByTestId('tab-settings').tap();
  await expect(page.getByTestId('settings-panel')).toBeVisible();
  expect(await sideways(page)).toBeLessThanOrEqual(0);
  await ctx.close();
});

test('the room in English', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', {
    title: unique('Glue dispenser clogged on L6'), incident_type: 'material_shortage', severity: 'medium', line: 'L6', lots: ['G-1201'],
  });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  const chen = await rest(request, USERS.chen);
  await chen.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'en-1', content: 'Nozzle swapped; dispensing again at 0.3 g.' });

  await page.setViewportSize({ width: 1440, height: 900 });
  await login(page, USERS.lin);
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Incident rooms' })).toBeVisible();
  await openRoom(page, room.id);
  await expect(page.getByTestId('split-view')).toBeVisible();
  await expect(page.getByTestId('tab-members')).toContainText('Members');
  await expect(page.getByTestId('severity-badge')).toHaveText('Medium');
  await expect(page.getByTestId('composer')).toHaveAttribute('placeholder', /.+/);
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Incident rooms' })).toBeVisible();
  await shot(page, 'room-english');
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.getByTestId('tab-members')).toContainText('成員');
});
