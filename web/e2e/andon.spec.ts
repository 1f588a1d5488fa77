import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { AD, SHOTS, USERS, login, newUserPage, openRoom, rest, shot, unique } from './helpers';

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

test('failed then successful login; the session survives a reload', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: '登入 Andon' })).toBeVisible();
  await page.locator('input[name=username]').fill(USERS.lin.id);
  const pw = page.locator('input[name=password]');
  await pw.fill('wrong-password');
  await page.getByRole('button', { name: '顯示密碼' }).click();
  await expect(pw).toHaveAttribute('type', 'text');
  await page.getByRole('button', { name: '隱藏密碼' }).click();
  await expect(pw).toHaveAttribute('type', 'password');
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('login-error')).toContainText('Invalid credentials');
  await expect(pw).toHaveValue('');
  await shot(page, 'login');

  await pw.fill(USERS.lin.pw);
  await page.locator('button[type=submit]').click();
  await expect(page.getByRole('heading', { name: '事件室' })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'online');
  await page.reload();
  await expect(page.getByRole('heading', { name: '事件室' })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'online');
});

test('create a room from a template', async ({ page, request }) => {
  const admin = await rest(request, USERS.admin);
  const name = unique('Press line jam');
  await admin.call('POST', '/api/templates', {
    name,
    incident_type: 'equipment_failure',
    default_severity: 'high',
    default_description: '1. Stop the line\n2. Call maintenance',
    default_members: [{ user_id: USERS.wang.id, role: 'editor' }],
  });
  // Some rooms so the list looks like a working day.
  const lin = await rest(request, USERS.lin);
  for (const [title, incident_type, severity, line] of [
    ['Coolant pump pressure low', 'equipment_failure', 'medium', 'L2'],
    ['Resin pellets running out', 'material_shortage', 'high', 'L4'],
    ['Scratches on housing batch', 'quality_issue', 'critical', 'L1'],
  ] as const) {
    await lin.call('POST', '/api/rooms', { title, incident_type, severity, line, location: 'Plant 1', lots: ['A-1042'] });
  }

  await login(page, USERS.lin);
  await expect(page.getByTestId('room-card').first()).toBeVisible();
  await shot(page, 'room-list');
  await page.getByTestId('new-room').click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('select[name=template]').selectOption({ label: name });
  await expect(dialog.locator('select[name=severity]')).toHaveValue('high');
  await expect(dialog.locator('textarea[name=description]')).toHaveValue(/Stop the line/);
  await dialog.locator('input[name=title]').fill('Stamping press 3 stopped');
  await dialog.locator('input[name=location]').fill('Plant 1');
  await dialog.locator('input[name=line]').fill('L3');
  await dialog.locator('input[name=lots]').fill('B-2201, B-2202');
  await shot(page, 'create-dialog');
  await dialog.getByRole('button', { name: '建立' }).click();
  await expect(page.getByRole('heading', { name: 'Stamping press 3 stopped' })).toBeVisible();
  await expect(page.getByTestId('severity-badge')).toHaveText('高');
  await expect(page.getByTestId('status-badge')).toHaveText('處理中');
  await page.getByTestId('tab-members').click();
  await expect(page.getByTestId('member')).toHaveCount(2);
  await expect(page.getByTestId('members-panel')).toContainText(USERS.wang.id);
});

test('two users chat in real time with typing and reactions', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', {
    title: 'Conveyor 7 belt slipping', incident_type: 'equipment_failure', severity: 'critical',
    location: 'Plant 1', line: 'L7', equipment: 'CV-07', lots: ['C-3301'],
    description: 'Belt slips under load since 08:10.',
  });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.maria.id, role: 'viewer' });

  const a = await newUserPage(browser, USERS.lin);
  const b = await newUserPage(browser, USERS.chen);
  await openRoom(a, room.id);
  await openRoom(b, room.id);

  await a.getByTestId('composer').pressSequentially('Belt tension checked', { delay: 60 });
  await expect(b.getByTestId('typing')).toContainText('林志明');
  await a.getByTestId('composer').fill('Belt tension checked: 20% below spec.');
  await a.getByTestId('composer').press('Enter');
  const onB = b.getByTestId('message').filter({ hasText: 'Belt tension checked' });
  await expect(onB).toHaveCount(1);
  // The indicator runs out once the message arrived (or expires_in_ms later).
  await expect(b.getByTestId('typing')).toHaveText('', { timeout: 6000 });

  await b.getByTestId('composer').fill('On my way with a new belt. ETA 10 min.');
  await b.getByTestId('composer').press('Enter');
  await expect(a.getByTestId('message').filter({ hasText: 'On my way' })).toHaveCount(1);

  await onB.hover();
  await onB.getByRole('button', { name: '回應' }).click();
  await onB.getByRole('menuitem', { name: '👍' }).click();
  const onA = a.getByTestId('message').filter({ hasText: 'Belt tension checked' });
  await expect(onA.getByTestId('reaction')).toContainText('👍 1');
  await shot(a, 'room-view');

  await a.getByTestId('tab-members').click();
  await expect(a.getByTestId('member')).toHaveCount(3);
  await shot(a, 'member-panel');
  await a.context().close();
  await b.context().close();
});

test('a critical room pulses until B acknowledges it, and A sees the acknowledgement live', async ({ browser, request }) => {
  const a = await newUserPage(browser, USERS.lin);
  await a.getByTestId('new-room').click();
  const dialog = a.getByRole('dialog');
  const title = unique('Oven 4 over temperature');
  await dialog.locator('input[name=title]').fill(title);
  await dialog.locator('select[name=incident_type]').selectOption('equipment_failure');
  await dialog.locator('select[name=severity]').selectOption('critical');
  await dialog.locator('input[name=line]').fill('L4');
  await dialog.getByRole('button', { name: '建立' }).click();
  await expect(a.getByRole('heading', { name: title })).toBeVisible();
  await expect(a.getByTestId('alarm')).toBeVisible();
  await expect(a.getByTestId('milestone-acknowledged')).toHaveAttribute('data-reached', 'false');
  await expect(a.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
  const roomId = a.url().split('/rooms/')[1].split('?')[0];
  const lin = await rest(request, USERS.lin);
  await lin.call('POST', `/api/rooms/${roomId}/members`, { user_id: USERS.chen.id, role: 'editor' });
  await shot(a, 'room-unacknowledged');

  const b = await newUserPage(browser, USERS.chen);
  await expect(b.getByTestId('room-card').filter({ hasText: title })).toHaveAttribute('data-alarm', 'true');
  await openRoom(b, roomId);
  await b.getByTestId('acknowledge').click();
  await expect(b.getByTestId('acknowledge')).toHaveCount(0);
  await expect(b.getByTestId('alarm')).toHaveCount(0);

  // A, without reloading: the event carries the acknowledged room.
  await expect(a.getByTestId('alarm')).toHaveCount(0);
  await expect(a.getByTestId('milestone-acknowledged')).toHaveAttribute('data-reached', 'true');
  await expect(a.getByTestId('milestone-acknowledged')).toContainText('已接手');
  await a.getByTestId('contain').click();
  await expect(b.getByTestId('milestone-contained')).toHaveAttribute('data-reached', 'true');
  await shot(a, 'room-milestones');
  await a.context().close();
  await b.context().close();
});

test('an image dropped on the room shows a thumbnail and opens the lightbox', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title: unique('Defect photos'), incident_type: 'quality_issue', severity: 'medium' });
  await login(page, USERS.lin);
  // Any real PNG will do: a screenshot of the page itself.
  await openRoom(page, room.id);
  const png = (await page.screenshot({ clip: { x: 0, y: 0, width: 480, height: 300 } })).toString('base64');
  await page.getByTestId('room-main').evaluate(async (el, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'defect.png', { type: 'image/png' }));
    el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, png);
  // Dropped files wait in the tray (for captions) until sent.
  await page.getByTestId('upload-send').click();
  await expect(page.getByTestId('upload').or(page.getByTestId('thumbnail')).first()).toBeVisible();
  const thumb = page.getByTestId('thumbnail');
  await expect(thumb.locator('img')).toBeVisible();
  await thumb.click();
  await expect(page.getByTestId('lightbox').locator('img')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('lightbox')).toHaveCount(0);
  // A type the server would refuse is stopped before uploading.
  await page.getByTestId('file-input').setInputFiles({ name: 'tool.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') });
  await expect(page.getByTestId('upload').filter({ hasText: 'tool.exe' })).toContainText('不支援');
  await page.getByTestId('tab-files').click();
  await expect(page.getByTestId('files-panel')).toContainText('defect.png');
});

test('a viewer cannot send and is told why', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const title = unique('Label printer offline');
  await lin.call('POST', '/api/rooms', { title, incident_type: 'other', severity: 'low' });
  await login(page, USERS.maria);
  await page.getByRole('searchbox').first().fill(title);
  const card = page.getByTestId('room-card').filter({ hasText: title });
  await card.getByRole('button', { name: '加入' }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByTestId('viewer-note')).toContainText('您是檢視者');
  await expect(page.getByTestId('composer')).toHaveCount(0);
});

test('resolve with notes, then archive', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', {
    title: unique('Oven 2 over temperature'), incident_type: 'equipment_failure', severity: 'high', location: 'Plant 1', lots: ['D-4410'],
  });
  await login(page, USERS.lin);
  await openRoom(page, room.id);
  await page.getByTestId('tab-settings').click();
  const settings = page.getByTestId('settings-panel');
  await settings.locator('textarea[name=resolution_notes]').fill('Thermocouple replaced; temperature back in range.');
  await shot(page, 'settings');
  page.on('dialog', (d) => void d.accept());
  await settings.getByRole('button', { name: '標記為已解決' }).click();
  await expect(page.getByTestId('status-badge')).toHaveText('已解決');
  await settings.getByRole('button', { name: '封存' }).click();
  await expect(page.getByTestId('status-badge')).toHaveText('已封存');
  await expect(page.getByText('此事件室已封存，僅供閱讀。').first()).toBeVisible();
  await expect(page.getByTestId('composer')).toHaveCount(0);
});

/** Clicks `button`, which downloads a report: a .docx, so a zip ("PK"). */
async function expectDocx(page: Page, button: Locator): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), button.click()]);
  expect(d.suggestedFilename()).toMatch(/\.docx$/);
  const bytes = readFileSync(await d.path());
  expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
  return d.suggestedFilename();
}

/** Records every stage the report progress shows (a small report is done within a second). */
async function recordStages(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { reportStages: string[] }).reportStages = seen;
    new MutationObserver(() => {
      const s = document.querySelector('[data-testid=report-progress]')?.getAttribute('data-stage');
      if (s && seen[seen.length - 1] !== s) seen.push(s);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-stage'] });
  });
}
const stagesSeen = (page: Page) => page.evaluate(() => (window as unknown as { reportStages: string[] }).reportStages);

test('an incident report: offered after resolving, its progress, preview and .docx; a viewer only reads them', async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const lin = await rest(request, USERS.lin);
  const chen = await rest(request, USERS.chen);
  const room = await lin.call('POST', '/api/rooms', {
    title: unique('Reflow oven 4 conveyor stopped'), incident_type: 'equipment_failure', severity: 'high',
    location: 'Plant 1', line: 'L4', equipment: 'RO-04', lots: ['E-5120', 'E-5121'],
    description: 'Conveyor chain stopped at 09:12; boards stuck in zone 6.',
  });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.maria.id, role: 'viewer' });
  let n = 0;
  const say = (who: typeof lin, content: string) =>
    who.call('POST', `/api/rooms/${room.id}/messages`, { client_id: `report-${++n}`, content });
  await say(lin, 'Conveyor chain stopped in zone 6, 12 boards inside the oven.');
  await say(chen, 'Maintenance on site: the chain tensioner sheared.');
  await say(chen, 'Tensioner replaced, conveyor back at 85 cm/min.');

  await login(page, USERS.lin);
  await openRoom(page, room.id);
  const png = await page.screenshot({ clip: { x: 0, y: 0, width: 480, height: 300 } });
  await lin.upload(room.id, 'zone6-tensioner.png', 'image/png', png, 'Sheared tensioner');
  await expect(page.getByTestId('thumbnail')).toHaveCount(1);

  // Resolving through the UI offers the report right there.
  await page.getByTestId('tab-settings').click();
  const settings = page.getByTestId('settings-panel');
  await settings.locator('textarea[name=resolution_notes]').fill('Chain tensioner replaced; 12 boards scrapped, line restarted at 10:05.');
  await settings.getByRole('button', { name: '標記為已解決' }).click();
  await expect(page.getByTestId('status-badge')).toHaveText('已解決');
  const prompt = page.getByTestId('resolved-report-prompt');
  await expect(prompt).toContainText('要產生事件報告嗎');
  await prompt.getByRole('button', { name: /產生報告/ }).click();

  const panel = page.getByTestId('reports-panel');
  await expect(panel).toContainText('尚未產生任何報告');
  await expect(panel.locator('select[name=language]')).toHaveValue('zh-TW');
  const { ai_available } = await lin.call('GET', `/api/rooms/${room.id}/reports`);
  expect(ai_available).toBe(!!process.env.ANDON_E2E_LLM);
  await expect(panel.getByTestId('report-ai')).toHaveCount(ai_available ? 1 : 0);

  // Traditional Chinese (the UI's language): progress, then the sections.
  await recordStages(page);
  await panel.getByTestId('generate-report').click();
  const view = panel.getByTestId('report-view');
  await expect(view).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  expect((await stagesSeen(page)).length).toBeGreaterThan(0);
  const preview = view.getByTestId('report-preview');
  await expect(preview.getByRole('heading', { name: '事件摘要' })).toBeVisible();
  await expect(preview.getByRole('heading', { name: '時間軸' })).toBeVisible();
  await expect(preview.locator('.report-table').first()).toBeVisible();
  await expect(preview.locator('.report-figure figcaption')).toContainText('zone6-tensioner.png');
  await expect(preview.locator('.report-figure img')).toBeVisible();
  await expectDocx(page, view.getByTestId('report-download'));
  // Everyone in the room sees it in the timeline.
  await expect(page.getByTestId('report-notice')).toHaveCount(1);
  await expect(page.getByTestId('report-notice')).toContainText('已產生事件報告');

  // English.
  await panel.locator('select[name=language]').selectOption('en');
  await panel.getByTestId('generate-report').click();
  await expect(panel.getByTestId('report-item')).toHaveCount(2);
  await expect(view).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(view.getByTestId('report-preview').getByRole('heading', { name: 'Summary', exact: true })).toBeVisible();
  await expect(view.getByTestId('report-preview').getByRole('heading', { name: 'Timeline', exact: true })).toBeVisible();
  await expectDocx(page, view.getByTestId('report-download'));

  // With the model, when the server has one (scripts/web-test starts the fake one).
  if (ai_available) {
    await panel.locator('select[name=language]').selectOption('en');
    await panel.getByTestId('report-ai').check();
    await panel.getByTestId('generate-report').click();
    await expect(panel.getByTestId('report-item')).toHaveCount(3);
    await expect(view).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
    await expect(view.locator('section[data-section=summary]')).toContainText('FAKE-LLM');
  }

  // The earliest (Traditional Chinese) report, picked from the list.
  await panel.getByTestId('report-item').last().locator('.report-pick').click();
  await expect(view.getByTestId('report-preview').getByRole('heading', { name: '事件摘要' })).toBeInViewport();
  await page.locator('.room-side').evaluate((el) => { el.scrollTop = 0; });
  await shot(page, 'reports-panel');

  // A viewer, on a phone: the list, previews and downloads, but no generate button.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const phone = await ctx.newPage();
  await login(phone, USERS.maria);
  await openRoom(phone, room.id);
  await expect(phone.getByTestId('report-notice')).toHaveCount(ai_available ? 3 : 2);
  await phone.getByTestId('tab-reports').click();
  const vpanel = phone.getByTestId('reports-panel');
  await expect(vpanel.getByTestId('report-item')).toHaveCount(ai_available ? 3 : 2);
  await expect(vpanel.getByTestId('reports-viewer-note')).toContainText('只有編輯者與擁有者可以產生報告');
  await expect(vpanel.getByTestId('generate-report')).toHaveCount(0);
  await expect(vpanel.getByTestId('report-preview')).toBeVisible();
  await shot(phone, 'reports-panel-phone');
  await expectDocx(phone, vpanel.getByTestId('report-download'));
  // The server agrees: a viewer may not start one.
  const maria = await rest(request, USERS.maria);
  await expect(maria.call('POST', `/api/rooms/${room.id}/reports`, { language: 'en', ai: false })).rejects.toThrow(/403/);
  await ctx.close();
});

test('messages written offline arrive exactly once after reconnecting', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title: unique('Wi-Fi dead zone at L5'), incident_type: 'other', severity: 'medium' });
  await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
  const a = await newUserPage(browser, USERS.lin);
  const b = await newUserPage(browser, USERS.chen);
  await openRoom(a, room.id);
  await openRoom(b, room.id);

  await a.context().setOffline(true);
  await expect(a.getByTestId('connection')).not.toHaveAttribute('data-state', 'online');
  for (const text of ['offline one', 'offline two']) {
    await a.getByTestId('composer').fill(text);
    await a.getByTestId('composer').press('Enter');
  }
  await expect(a.getByTestId('pending-message')).toHaveCount(2);
  await a.context().setOffline(false);
  await expect(a.getByTestId('connection')).toHaveAttribute('data-state', 'online', { timeout: 20_000 });
  for (const p of [a, b]) {
    for (const text of ['offline one', 'offline two']) {
      await expect(p.getByTestId('message').filter({ hasText: text })).toHaveCount(1);
    }
  }
  await expect(a.getByTestId('pending-message')).toHaveCount(0);
  // And the server stored each exactly once.
  const { messages } = await lin.call('GET', `/api/rooms/${room.id}/messages?limit=50`);
  const contents = messages.map((m: { content: string }) => m.content);
  expect(contents.filter((c: string) => c === 'offline one')).toHaveLength(1);
  expect(contents.filter((c: string) => c === 'offline two')).toHaveLength(1);
  // Reloading does not send them again.
  await a.reload();
  await expect(a.getByTestId('message').filter({ hasText: 'offline two' })).toHaveCount(1);
  await a.context().close();
  await b.context().close();
});

test('someone added to a room sees the bell count go up live, opens the room from the list and reads it', async ({ browser, request }) => {
  const lin = await rest(request, USERS.lin);
  const maria = await rest(request, USERS.maria);
  const title = unique('Label printer offline');
  const room = await lin.call('POST', '/api/rooms', { title, incident_type: 'equipment_failure', severity: 'high', line: 'L2' });
  // Earlier tests added maria to rooms: start from an inbox with nothing unread.
  await maria.call('POST', '/api/notifications/read', { all: true });

  const a = await newUserPage(browser, USERS.lin);
  const b = await newUserPage(browser, USERS.maria);
  await expect(b.getByTestId('bell')).toBeVisible();
  await expect(b.getByTestId('bell-count')).toHaveCount(0);

  await openRoom(a, room.id);
  await a.getByTestId('tab-members').click();
  await a.getByTestId('members-panel').getByRole('searchbox').fill(USERS.maria.id);
  await a.getByTestId('members-panel').getByRole('button', { name: '新增成員', exact: true }).first().click();
  await expect(a.getByTestId('member')).toHaveCount(2);

  // Live, on a page that is not subscribed to the room.
  await expect(b.getByTestId('bell-count')).toHaveText('1');
  await b.getByTestId('bell').click();
  const entry = b.getByTestId('notification').filter({ hasText: title });
  await expect(entry).toContainText('將您加入');
  await shot(b, 'notifications');
  await entry.click();
  await expect(b).toHaveURL(new RegExp(`/rooms/${room.id}$`));
  await expect(b.getByTestId('bell-count')).toHaveCount(0);
  const inbox = await maria.call('GET', '/api/notifications?unread=true');
  expect(inbox.unread).toBe(0);

  // The settings: `added` no longer rings.
  await b.getByTestId('bell').click();
  await b.getByTestId('bell-panel').getByText('通知設定').click();
  const form = b.getByTestId('ring-settings');
  await form.locator('input[name=ring-added]').uncheck();
  await form.getByRole('button', { name: '儲存' }).click();
  await expect(form.getByRole('status')).toHaveText('已儲存');
  const settings = await maria.call('GET', '/api/me/settings');
  expect(settings.ring.added).toBe(false);
  await maria.call('PUT', '/api/me/settings', { ring: { ...settings.ring, added: true }, quiet_hours: null });
  await a.context().close();
  await b.context().close();
});

test('the dashboard shows the figures and charts, narrows by filter, and links to open rooms', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const line = unique('DL').replace(' ', '-');
  const slow = unique('Dashboard: conveyor jam');
  const acked = await lin.call('POST', '/api/rooms', { title: unique('Dashboard: press fault'), incident_type: 'equipment_failure', severity: 'high', line });
  const resolved = await lin.call('POST', '/api/rooms', { title: unique('Dashboard: glue low'), incident_type: 'material_shortage', severity: 'medium', line });
  // A few seconds apart, so that the chart has bars to draw.
  await new Promise((r) => setTimeout(r, 2_000));
  await lin.call('POST', `/api/rooms/${acked.id}/acknowledge`);
  await lin.call('POST', `/api/rooms/${resolved.id}/acknowledge`);
  await new Promise((r) => setTimeout(r, 2_000));
  await lin.call('PATCH', `/api/rooms/${resolved.id}`, { status: 'resolved', resolution_notes: 'Refilled.' });
  const open = await lin.call('POST', '/api/rooms', { title: slow, incident_type: 'equipment_failure', severity: 'critical', line });

  await login(page, USERS.lin);
  await page.getByTestId('nav-dashboard').click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { name: '儀表板' })).toBeVisible();
  await expect(page.getByTestId('dash-count-active')).toBeVisible();
  await expect(page.getByTestId('dash-mtta')).toContainText(/\d+ (秒|分|小時|天)/);
  await expect(page.getByTestId('chart-by-line').locator('canvas')).toBeVisible();
  await expect(page.getByTestId('chart-by-severity').locator('canvas')).toBeVisible();

  // Narrowed to this test's line: exactly its three rooms.
  await page.getByTestId('dash-line').fill(line);
  await expect(page).toHaveURL(/line=/);
  await expect(page.getByTestId('dash-total')).toContainText('共 3 間');
  await expect(page.getByTestId('dash-count-active')).toContainText('2');
  await expect(page.getByTestId('dash-count-resolved')).toContainText('1');
  await expect(page.getByTestId('dash-mttr')).toContainText('1 間');
  await expect(page.getByTestId('dash-mtta')).toContainText(/[2-9] 秒/);
  const rooms = page.getByTestId('slowest-room');
  await expect(rooms).toHaveCount(2);
  await expect(rooms.filter({ hasText: slow })).toContainText('尚無人接手');
  // Then by severity: only the critical one.
  await page.getByTestId('dash-severity').selectOption('critical');
  await expect(page.getByTestId('dash-total')).toContainText('共 1 間');
  await expect(rooms).toHaveCount(1);
  await page.getByTestId('dash-severity').selectOption('');
  await expect(page.getByTestId('dash-total')).toContainText('共 3 間');
  await shot(page, 'dashboard');

  // A line with no room in the window: the empty state.
  await page.getByTestId('dash-line').fill(line + '-none');
  await expect(page.getByTestId('dash-empty')).toBeVisible();

  await page.getByTestId('dash-line').fill(line);
  await rooms.filter({ hasText: slow }).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${open.id}`));
  await expect(page.getByRole('heading', { name: slow })).toBeVisible();
});

test('the dashboard fits a phone', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await ctx.newPage();
  await login(page, USERS.lin);
  await page.goto('/dashboard');
  await expect(page.getByTestId('chart-by-severity').locator('canvas')).toBeVisible();
  const overflow = await page.evaluate(() => {
    const main = document.querySelector('main.content')!;
    return Math.max(document.documentElement.scrollWidth - window.innerWidth, main.scrollWidth - main.clientWidth);
  });
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, 'dashboard-phone');
  await ctx.close();
});

test('a forced logout returns to the login screen with the reason', async ({ page, request }) => {
  // Tokens that expire in 3 s make the server refresh them at once; once the password
  // has changed, AD rejects the refresh three times and the session is ended.
  expect((await request.put(`${AD}/admin/token-ttl`, { data: { seconds: 3 } })).ok()).toBeTruthy();
  try {
    await login(page, USERS.kick);
  } finally {
    await request.put(`${AD}/admin/token-ttl`, { data: { seconds: 3600 } });
  }
  await expect(page.getByRole('heading', { name: '事件室' })).toBeVisible();
  expect((await request.put(`${AD}/admin/users/${USERS.kick.id}/password`, { data: { password: 'changed' } })).ok()).toBeTruthy();
  await expect(page).toHaveURL(/\/login$/, { timeout: 30_000 });
  await expect(page.getByTestId('login-reason')).toBeVisible();
});

test('escalation ladders: admins only; an admin sets one, the server refuses a bad one; a room climbs', async ({ page, browser, request }) => {
  // Someone who is not a system administrator has no link, and the page says why.
  const lin = await newUserPage(browser, USERS.lin);
  await expect(lin.getByTestId('nav-admin')).toHaveCount(0);
  await lin.goto('/admin/escalation');
  await expect(lin.getByTestId('escalation-forbidden')).toContainText('只有系統管理員可以管理升級規則');
  await lin.context().close();

  await login(page, USERS.admin);
  await page.getByTestId('nav-admin').click();
  await page.getByTestId('nav-escalation').click();
  await expect(page).toHaveURL(/\/admin\/escalation$/);
  await expect(page.locator('section.ladder')).toHaveCount(4);
  await expect(page.locator('section.ladder').first()).toHaveAttribute('data-testid', 'ladder-critical');
  const critical = page.getByTestId('ladder-critical');
  await expect(critical.getByTestId('ladder-updated')).toHaveText('從未修改');

  // Level 1 after 1 minute, notifying two people.
  await critical.getByRole('button', { name: '新增一級' }).click();
  const level = (i: number) => critical.getByTestId('ladder-level').nth(i);
  await level(0).locator('input[name=after]').fill('1');
  await level(0).locator('textarea[name=notify]').fill(`${USERS.chen.id}, Wang@andon.test`);
  await critical.getByRole('button', { name: '儲存' }).click();
  await expect(critical.getByTestId('ladder-saved')).toHaveText('已儲存');
  await expect(critical.getByTestId('ladder-updated')).toContainText(USERS.admin.id);

  // Kept across a reload.
  await page.reload();
  await expect(level(0).locator('input[name=after]')).toHaveValue('1');
  await expect(level(0).locator('textarea[name=notify]')).toHaveValue(`${USERS.chen.id}\n${USERS.wang.id}`);
  await expect(critical.getByTestId('ladder-updated')).toContainText(USERS.admin.id);

  // A second level earlier than the first: the server's refusal, in the UI's language and as it said it.
  await critical.getByRole('button', { name: '新增一級' }).click();
  await level(1).locator('input[name=after]').fill('0:30');
  await level(1).locator('textarea[name=notify]').fill(USERS.maria.id);
  await critical.getByRole('button', { name: '儲存' }).click();
  const error = critical.getByTestId('ladder-error');
  await expect(error).toContainText('第 2 級的時間必須晚於前一級');
  await expect(error).toContainText("levels[2].after_secs: must be later than level 1's (60 s)");
  await expect(level(1)).toHaveAttribute('aria-invalid', 'true');
  await expect(level(0)).not.toHaveAttribute('aria-invalid');
  await shot(page, 'escalation-admin');

  // On a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.locator('main.content').evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, 'escalation-admin-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  // Said again in English, the server's words unchanged.
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Escalation ladders' })).toBeVisible();
  await expect(error).toContainText('Level 2 must come later than the level before it.');
  await expect(error).toContainText("Server message: levels[2].after_secs: must be later than level 1's (60 s)");
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.getByRole('heading', { name: '升級規則' })).toBeVisible();

  // Nothing was stored of the refused ladder.
  const admin = await rest(request, USERS.admin);
  const stored = await admin.call('GET', '/api/escalation-policies/critical');
  expect(stored.levels).toEqual([{ after_secs: 60, notify: [USERS.chen.id, USERS.wang.id] }]);

  // A ladder of seconds: an unacknowledged critical room reaches level 1 and says so.
  await rest(request, USERS.maria); // known by name from her first sign-in
  await admin.call('PUT', '/api/escalation-policies/critical', { levels: [{ after_secs: 8, notify: [USERS.maria.id] }] });
  const owner = await rest(request, USERS.lin);
  const room = await owner.call('POST', '/api/rooms', {
    title: unique('Reflow oven over temperature'), incident_type: 'equipment_failure', severity: 'critical', line: 'SMT-3', location: 'Plant 1',
  });
  const a = await newUserPage(browser, USERS.lin);
  await openRoom(a, room.id);
  const line = a.getByTestId('escalated-notice');
  await expect(line).toContainText('已升級至第 1 級：通知 Maria Santos', { timeout: 20_000 });
  await expect(line).toHaveCount(1);
  await shot(a, 'room-escalated');
  await a.context().close();
  await admin.call('PUT', '/api/escalation-policies/critical', { levels: [] });
});
