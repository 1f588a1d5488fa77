import { expect, test } from '@playwright/test';
import { newUserPage, openRoom, rest, shot, unique, USERS } from './helpers';

// Issue 20: pins and the conversation's system lines.

test('A pins a message and B sees it in the pinned panel live; clicking it finds the message', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', {
    title: unique('SMT-2 reflow oven alarm'), incident_type: 'equipment_failure', severity: 'high', line: 'SMT-2',
  });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  for (let i = 0; i < 3; i++) {
    await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: `pre-${i}`, content: `Zone ${i + 1} reading normal` });
  }
  await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'key', content: 'Zone 5 heater at 310°C, 25°C over the profile' });

  const a = await newUserPage(browser, USERS.lin);
  const b = await newUserPage(browser, USERS.chen);
  await openRoom(a, room.id);
  await openRoom(b, room.id);
  await b.getByTestId('tab-pins').click();
  const panel = b.getByTestId('pins-panel');
  await expect(panel).toContainText('尚無釘選訊息');

  // A pins from the message's menu.
  const key = a.getByTestId('message').filter({ hasText: 'Zone 5 heater' });
  await key.hover();
  await key.getByRole('button', { name: '釘選', exact: true }).click();
  await expect(key.getByTestId('pin-marker')).toContainText('已釘選');
  await expect(key).toHaveAttribute('data-pinned', 'true');

  // B, live: the panel lists it with who pinned it, the message is marked, and a
  // line says who pinned it.
  await expect(panel.getByTestId('pin-item')).toHaveCount(1);
  await expect(panel.getByTestId('pin-item')).toContainText('Zone 5 heater at 310°C');
  await expect(panel.getByTestId('pin-item')).toContainText('林志明 釘選於');
  await expect(b.getByTestId('message').filter({ hasText: 'Zone 5 heater' }).getByTestId('pin-marker')).toBeVisible();
  await expect(b.getByTestId('system-line').filter({ hasText: '林志明 釘選了一則訊息' })).toHaveCount(1);

  // Clicking the pin brings the message into view and flashes it.
  await panel.getByTestId('pin-item').getByRole('button').first().click();
  await expect(b.getByTestId('message').filter({ hasText: 'Zone 5 heater' })).toHaveClass(/flash/);
  await shot(b, 'pins');

  // A second pin goes after the first (pin order), live.
  const first = a.getByTestId('message').filter({ hasText: 'Zone 1 reading' });
  await first.hover();
  await first.getByRole('button', { name: '釘選', exact: true }).click();
  await expect(panel.getByTestId('pin-item')).toHaveCount(2);
  await expect(panel.getByTestId('pin-item').nth(1)).toContainText('Zone 1 reading');

  // On a phone, in English: the tabs and the panel fit the width.
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })).newPage();
  await phone.goto('/login');
  await phone.getByRole('button', { name: 'English' }).click();
  await phone.locator('input[name=username]').fill(USERS.chen.id);
  await phone.locator('input[name=password]').fill(USERS.chen.pw);
  await phone.locator('button[type=submit]').click();
  await openRoom(phone, room.id);
  await phone.getByTestId('tab-pins').click();
  await expect(phone.getByTestId('pins-panel')).toContainText('Pinned by 林志明');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await phone.context().close();

  // B unpins from the panel; A's marker goes away.
  await panel.getByTestId('pin-item').nth(1).getByRole('button', { name: '取消釘選' }).click();
  await expect(panel.getByTestId('pin-item')).toHaveCount(1);
  await expect(first.getByTestId('pin-marker')).toHaveCount(0);
  await a.context().close();
  await b.context().close();
});

test('status, milestones and members appear as system lines in the conversation, in zh-TW and in English', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  // Maria has signed in once, so her display name is known.
  await rest(request, USERS.maria);
  const room = await lin.call('POST', '/api/rooms', {
    title: unique('Line 3 conveyor stopped'), incident_type: 'equipment_failure', severity: 'medium', line: 'L3',
  });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  await lin.call('POST', `/api/rooms/${room.id}/messages`, { client_id: 'm1', content: 'Belt stopped at station 4' });

  const a = await newUserPage(browser, USERS.lin);
  const b = await newUserPage(browser, USERS.chen);
  await openRoom(a, room.id);
  await openRoom(b, room.id);
  const lines = a.getByTestId('system-line');
  // Loaded with the history: the members added before the page was opened.
  await expect(lines.filter({ hasText: '林志明 將 陳美玲 加入事件室（編輯者）' })).toHaveCount(1);

  // Live: a member added, the incident acknowledged (B, in the UI), the severity
  // raised, then resolved.
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.maria.id, role: 'viewer' });
  await expect(lines.filter({ hasText: '林志明 將 Maria Santos 加入事件室（檢視者）' })).toHaveCount(1);
  await b.getByTestId('acknowledge').click();
  await expect(lines.filter({ hasText: '陳美玲 確認接手此事件' })).toHaveCount(1);
  await lin.call('PATCH', `/api/rooms/${room.id}`, { severity: 'critical' });
  await expect(lines.filter({ hasText: '林志明 將嚴重度改為「緊急」' })).toHaveCount(1);
  await b.getByTestId('composer').fill('New belt fitted, running again.');
  await b.getByTestId('composer').press('Enter');
  await lin.call('PATCH', `/api/rooms/${room.id}`, { status: 'resolved', resolution_notes: 'Belt replaced' });
  await expect(lines.filter({ hasText: '林志明 將事件標記為已解決' })).toHaveCount(1);

  // In seq order among the messages: the acknowledgement before B's message, the
  // resolution after it.
  const order = await a.locator('[data-testid="message"], [data-testid="system-line"]').evaluateAll((els) =>
    els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(order).toEqual([...order].sort((x, y) => x - y));
  const texts = await a.locator('[data-testid="message"], [data-testid="system-line"]').allInnerTexts();
  const at = (s: string) => texts.findIndex((t) => t.includes(s));
  expect(at('確認接手')).toBeLessThan(at('New belt fitted'));
  expect(at('New belt fitted')).toBeLessThan(at('標記為已解決'));
  await shot(a, 'system-lines');

  // The same lines come back with the history after a reload.
  await a.reload();
  await expect(a.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
  await expect(lines.filter({ hasText: '陳美玲 確認接手此事件' })).toHaveCount(1);
  await expect(lines.filter({ hasText: '林志明 將事件標記為已解決' })).toHaveCount(1);

  // In English.
  await b.getByRole('button', { name: 'English' }).click();
  const bLines = b.getByTestId('system-line');
  await expect(bLines.filter({ hasText: '林志明 marked the incident resolved' })).toHaveCount(1);
  await expect(bLines.filter({ hasText: '陳美玲 acknowledged the incident' })).toHaveCount(1);
  await expect(bLines.filter({ hasText: '林志明 added Maria Santos (Viewer)' })).toHaveCount(1);
  await a.context().close();
  await b.context().close();
});
