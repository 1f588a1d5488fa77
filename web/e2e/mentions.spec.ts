import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { SHOTS, USERS, newUserPage, openRoom, rest, shot, unique } from './helpers';

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

const TEXT = {
  zh: { english: false, mentioned: '提到您', seen: '1 人已讀', divider: '以下為新訊息', badge: '1 則訊息提到您', body: '請確認料斗感測器' },
  en: { english: true, mentioned: 'mentioned you', seen: 'Seen by 1', divider: 'New messages', badge: '1 mentioning you', body: 'please check the hopper sensor' },
};

for (const lang of ['zh', 'en'] as const) {
  test(`a mention reaches the mentioned, who opens the room and is seen reading it (${lang})`, async ({ browser, request }) => {
    const L = TEXT[lang];
    const lin = await rest(request, USERS.lin);
    const chen = await rest(request, USERS.chen);
    // 陳美玲 signs in first: the room's member list knows her name.
    const b = await newUserPage(browser, USERS.chen);
    const a = await newUserPage(browser, USERS.lin);
    if (L.english) {
      for (const page of [a, b]) await page.getByRole('button', { name: 'English' }).click();
    }
    const title = unique(lang === 'zh' ? '料斗感測器異常' : 'Hopper sensor fault');
    const room = await lin.call('POST', '/api/rooms', { title, incident_type: 'equipment_failure', severity: 'high', line: 'L5' });
    await lin.call('POST', `/api/rooms/${room.id}/members`, { user_id: USERS.chen.id, role: 'editor' });
    // Start from an inbox with nothing unread (being added notified her).
    await chen.call('POST', '/api/notifications/read', { all: true });
    await b.reload();
    const card = b.getByTestId('room-card').filter({ hasText: title });
    await expect(card).toBeVisible();
    await expect(card.getByTestId('mention-badge')).toHaveCount(0);
    await expect(b.getByTestId('bell-count')).toHaveCount(0);

    // A types "@陳" and picks 陳美玲 from the suggestions.
    await openRoom(a, room.id);
    const composer = a.getByTestId('composer');
    await composer.click();
    await composer.pressSequentially('@陳');
    const menu = a.getByTestId('mention-suggestions');
    await expect(menu.getByRole('option').first()).toContainText('陳美玲');
    await expect(composer).toHaveAttribute('aria-expanded', 'true');
    if (lang === 'zh') await shot(a, 'mentions');
    if (L.english) {
      // By keyboard: Escape closes the list; typed again, Tab picks the highlighted one.
      await composer.press('Escape');
      await expect(menu).toHaveCount(0);
      await composer.press('Backspace');
      await composer.press('Backspace');
      await composer.pressSequentially('@陳');
      await expect(menu.getByRole('option', { name: /陳美玲/ })).toHaveAttribute('aria-selected', 'true');
      await composer.press('Tab');
    } else {
      await menu.getByRole('option', { name: /陳美玲/ }).click();
    }
    await expect(composer).toHaveValue('@陳美玲 ');
    await expect(menu).toHaveCount(0);
    await composer.pressSequentially(L.body);
    await composer.press('Enter');
    const sent = a.getByTestId('message').filter({ hasText: L.body });
    await expect(sent.getByTestId('mention')).toHaveText('@陳美玲');
    await expect(sent.getByTestId('mention')).toHaveAttribute('data-user', USERS.chen.id);

    // B: the room card's badge and the bell, live.
    await expect(card.getByTestId('mention-badge')).toHaveText('@1');
    await expect(card.getByTestId('mention-badge')).toHaveAttribute('aria-label', L.badge);
    await expect(b.getByTestId('bell-count')).toHaveText('1');
    await b.getByTestId('bell').click();
    const entry = b.getByTestId('notification').filter({ hasText: title }).filter({ hasText: L.mentioned });
    await expect(entry.locator('span').first()).toHaveText(lang === 'zh' ? `林志明 在「${title}」提到您` : `林志明 mentioned you in ${title}`);
    await b.getByTestId('bell').click();

    // A's message has been seen by nobody yet.
    await expect(a.getByTestId('seen-by')).toHaveCount(0);

    // B opens the room: the divider where she left off, her mention highlighted.
    await card.getByRole('link', { name: title }).click();
    await expect(b.getByTestId('room-main')).toHaveAttribute('data-live', 'true');
    const divider = b.getByTestId('unread-divider');
    await expect(divider).toHaveText(L.divider);
    const theirs = b.getByTestId('message').filter({ hasText: L.body });
    await expect(theirs.getByTestId('mention')).toHaveClass(/\bme\b/);
    // The divider sits right above the first new message.
    const next = divider.locator('xpath=following-sibling::*[1]');
    await expect(next).toHaveAttribute('data-testid', 'message');
    await expect(next).toContainText(L.body);

    // A sees it seen, live, and by whom.
    const seen = a.getByTestId('seen-by');
    await expect(seen.getByRole('button')).toContainText(L.seen);
    await seen.getByRole('button').click();
    await expect(seen.getByTestId('seen-by-list')).toHaveText('陳美玲');
    if (lang === 'zh') await shot(a, 'seen-by');

    // The badge is gone once read.
    await expect.poll(async () => {
      const list = await chen.call('GET', '/api/rooms?mine=true&page_size=100');
      return list.rooms.find((r: { id: string }) => r.id === room.id)?.mentions;
    }).toBe(0);
    await a.context().close();
    await b.context().close();
  });
}
