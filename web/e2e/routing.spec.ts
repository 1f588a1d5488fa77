import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { SHOTS, USERS, login, newUserPage, rest, shot, unique } from './helpers';

// Rules and ladders are global: each test matches only rooms of its own line, and
// puts back what it changed, so the other spec files' rooms are not routed.
test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

test('routing rules: admins only; an admin creates, edits and deletes one; refusals show by their field', async ({ page, browser, request }) => {
  const lin = await newUserPage(browser, USERS.lin);
  await expect(lin.getByTestId('nav-admin')).toHaveCount(0);
  await lin.goto('/admin/routing');
  await expect(lin.getByTestId('routing-forbidden')).toContainText('只有系統管理員可以管理派案規則');
  await lin.context().close();

  const name = unique('三號線停機');
  const line = unique('L3');
  await login(page, USERS.admin);
  await page.getByTestId('nav-admin').click();
  await page.getByTestId('nav-routing').click();
  await expect(page).toHaveURL(/\/admin\/routing$/);
  await expect(page.getByRole('heading', { name: '派案規則', level: 1 })).toBeVisible();

  // A rule with an address that is not one: the server refuses, the page says so by the people lists.
  await page.getByTestId('rule-new').click();
  const form = page.getByTestId('rule-form');
  await form.getByLabel('規則名稱').fill(name);
  await form.getByLabel('類型').selectOption('equipment_failure');
  await form.getByLabel('嚴重度').selectOption('critical');
  await form.getByLabel('產線').fill(line);
  await form.getByLabel('加入為編輯者（電子郵件）').fill(`${USERS.chen.id}, wang-at-plant`);
  await form.getByRole('button', { name: '儲存' }).click();
  await expect(form.getByTestId('rule-error')).toHaveText('名單中有無效的電子郵件地址。');
  await expect(form.getByLabel('加入為編輯者（電子郵件）')).toHaveAttribute('aria-invalid', 'true');
  await expect(form).toContainText('wang-at-plant');

  await form.getByLabel('加入為編輯者（電子郵件）').fill(`${USERS.chen.id}\nWang@andon.test`);
  await form.getByRole('button', { name: '儲存' }).click();
  await expect(page.getByTestId('rule-form')).toHaveCount(0);
  const card = page.getByTestId('rule').filter({ hasText: name });
  await expect(card.getByTestId('rule-when')).toContainText('設備故障');
  await expect(card.getByTestId('rule-when')).toContainText('緊急');
  await expect(card.getByTestId('rule-when')).toContainText(`產線: ${line}`);
  await expect(card.getByTestId('rule-who')).toContainText(`${USERS.chen.id} · 編輯者`);
  await expect(card.getByTestId('rule-who')).toContainText(`${USERS.wang.id} · 編輯者`);

  // The same name twice: refused, said by the name.
  await page.getByTestId('rule-new').click();
  await form.getByLabel('規則名稱').fill(name);
  await form.getByLabel('加入為檢視者（電子郵件）').fill(USERS.maria.id);
  await form.getByRole('button', { name: '儲存' }).click();
  await expect(form.getByTestId('rule-error')).toHaveText('已有同名的規則，請換一個名稱。');
  await form.getByRole('button', { name: '取消' }).click();

  // Edit: Maria as a viewer too; stored, as the API gives it back.
  await card.getByRole('button', { name: `編輯規則「${name}」` }).click();
  await expect(form.getByLabel('加入為編輯者（電子郵件）')).toHaveValue(`${USERS.chen.id}\n${USERS.wang.id}`);
  await form.getByLabel('加入為檢視者（電子郵件）').fill(USERS.maria.id);
  await form.getByRole('button', { name: '儲存' }).click();
  await expect(card.getByTestId('rule-who')).toContainText(`${USERS.maria.id} · 檢視者`);
  const admin = await rest(request, USERS.admin);
  const stored = (await admin.call('GET', '/api/routing-rules')).rules.find((r: { name: string }) => r.name === name);
  expect(stored).toMatchObject({
    incident_type: 'equipment_failure', severity: 'critical', location: null, line,
    members: [
      { user_id: USERS.chen.id, role: 'editor' },
      { user_id: USERS.wang.id, role: 'editor' },
      { user_id: USERS.maria.id, role: 'viewer' },
    ],
  });
  await shot(page, 'routing-admin');

  // On a phone, and in English.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.locator('main.content').evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // The top bar still fits: the admin pages sit behind one menu button.
  await expect(page.getByRole('button', { name: '登出' })).toBeInViewport({ ratio: 1 });
  await shot(page, 'routing-admin-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Routing rules', level: 1 })).toBeVisible();
  await expect(card.getByTestId('rule-when')).toContainText('Equipment failure');
  await expect(card.getByTestId('rule-who')).toContainText(`${USERS.maria.id} · Viewer`);
  await page.getByRole('button', { name: '中文' }).click();

  // Delete, confirmed in a dialog; gone from the page and from the server.
  await card.getByRole('button', { name: `刪除規則「${name}」` }).click();
  await expect(page.getByTestId('rule-delete-dialog')).toContainText('已由它加入的成員仍留在事件室中');
  await page.getByTestId('rule-delete-confirm').click();
  await expect(card).toHaveCount(0);
  const left = (await admin.call('GET', '/api/routing-rules')).rules.map((r: { name: string }) => r.name);
  expect(left).not.toContain(name);
});

test('A opens a critical room a rule routes to B; B is notified, acknowledges, and A sees it live; the ladder and the figures follow', async ({ browser, request }) => {
  const admin = await rest(request, USERS.admin);
  const chen = await rest(request, USERS.chen);
  const line = unique('SMT');
  const rule = await admin.call('POST', '/api/routing-rules', {
    name: unique('Critical on SMT'), severity: 'critical', line, members: [{ user_id: USERS.chen.id, role: 'editor' }],
  });
  // A ladder long enough not to fire during the test: the room is watched, not escalated.
  await admin.call('PUT', '/api/escalation-policies/critical', { levels: [{ after_secs: 3600, notify: [USERS.wang.id] }] });
  try {
    await chen.call('POST', '/api/notifications/read', { all: true });
    const b = await newUserPage(browser, USERS.chen);
    await expect(b.getByTestId('bell')).toBeVisible();
    await expect(b.getByTestId('bell-count')).toHaveCount(0);

    // A creates the room in the browser.
    const a = await newUserPage(browser, USERS.lin);
    await a.getByTestId('new-room').click();
    const dialog = a.getByRole('dialog');
    const title = unique('Solder paste printer stopped');
    await dialog.locator('input[name=title]').fill(title);
    await dialog.locator('select[name=incident_type]').selectOption('equipment_failure');
    await dialog.locator('select[name=severity]').selectOption('critical');
    await dialog.locator('input[name=line]').fill(line);
    await dialog.getByRole('button', { name: '建立' }).click();
    await expect(a.getByRole('heading', { name: title })).toBeVisible();
    await expect(a.getByTestId('alarm')).toBeVisible();
    await expect(a.getByTestId('room-main')).toHaveAttribute('data-live', 'true');

    // B, on the room list, not subscribed to the room: the bell counts the routing at once.
    await expect(b.getByTestId('bell-count')).toHaveText('1');
    await b.getByTestId('bell').click();
    const entry = b.getByTestId('notification').filter({ hasText: title });
    await expect(entry).toContainText(`依派案規則，您已被加入「${title}」`);
    await shot(b, 'routed-notification');
    await entry.click();
    await expect(b.getByRole('heading', { name: title })).toBeVisible();
    await b.getByTestId('acknowledge').click();
    await expect(b.getByTestId('acknowledge')).toHaveCount(0);

    // A, without reloading.
    await expect(a.getByTestId('alarm')).toHaveCount(0);
    await expect(a.getByTestId('milestone-acknowledged')).toHaveAttribute('data-reached', 'true');
    await expect(a.getByTestId('milestone-acknowledged').locator('time')).toHaveAttribute('title', new RegExp(USERS.chen.id));
    await shot(a, 'routed-acknowledged');

    // The figures: this room's MTTA is counted, and its type has a row.
    await a.getByTestId('nav-dashboard').click();
    await a.getByTestId('dash-line').fill(line);
    await expect(a.getByTestId('dash-total')).toHaveText('共 1 間事件室');
    await expect(a.getByTestId('dash-mtta')).toContainText('1 間');
    await expect(a.getByTestId('dash-type-equipment_failure')).toContainText('設備故障');
    await expect(a.getByTestId('dash-by-type').locator('tbody tr')).toHaveCount(1);
    await shot(a, 'dashboard-by-type');

    // The ladder page shows the critical ladder the room was watched by.
    const adm = await newUserPage(browser, USERS.admin);
    await adm.getByTestId('nav-admin').click();
    await adm.getByTestId('nav-escalation').click();
    await expect(adm.getByTestId('ladder-critical').getByTestId('ladder-level')).toHaveCount(1);
    await expect(adm.getByTestId('ladder-critical').locator('textarea[name=notify]')).toHaveValue(USERS.wang.id);
    await adm.context().close();
    await a.context().close();
    await b.context().close();
  } finally {
    await admin.call('DELETE', `/api/routing-rules/${rule.id}`);
    await admin.call('PUT', '/api/escalation-policies/critical', { levels: [] });
  }
});

test('on a phone, a routed person opens the room from the bell', async ({ browser, request }) => {
  const admin = await rest(request, USERS.admin);
  const maria = await rest(request, USERS.maria);
  const line = unique('PK');
  const rule = await admin.call('POST', '/api/routing-rules', {
    name: unique('Packaging, any severity'), line, members: [{ user_id: USERS.maria.id, role: 'viewer' }],
  });
  try {
    await maria.call('POST', '/api/notifications/read', { all: true });
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const b = await ctx.newPage();
    await login(b, USERS.maria);
    const lin = await rest(request, USERS.lin);
    const room = await lin.call('POST', '/api/rooms', { title: unique('Carton erector jam'), incident_type: 'equipment_failure', severity: 'medium', line: line.toLowerCase() });
    await expect(b.getByTestId('bell-count')).toHaveText('1');
    await b.getByTestId('bell').tap();
    await b.getByTestId('notification').filter({ hasText: room.title }).tap();
    await expect(b).toHaveURL(new RegExp(`/rooms/${room.id}$`));
    await expect(b.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
    // A viewer: no acknowledge button.
    await expect(b.getByTestId('acknowledge')).toHaveCount(0);
    await ctx.close();
  } finally {
    await admin.call('DELETE', `/api/routing-rules/${rule.id}`);
  }
});
