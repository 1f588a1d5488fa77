import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { login, openRoom, rest, unique, USERS } from './helpers';

// Run by scripts/web-test against a second server whose files are on S3 (Garage),
// with ANDON_E2E_S3=1; the main run leaves this file out (playwright.config.ts).

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
  '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

test('with files on S3, images, thumbnails and downloads work in the browser', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title: unique('S3 evidence'), incident_type: 'quality_issue', severity: 'medium' });
  await login(page, USERS.lin);
  await openRoom(page, room.id);
  const photo = await page.screenshot({ clip: { x: 0, y: 0, width: 640, height: 400 } });

  await page.getByTestId('file-input').setInputFiles([
    { name: 'scratch.png', mimeType: 'image/png', buffer: photo },
    { name: 'inspection.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  await page.getByTestId('upload-caption').first().fill('Scratch on housing');
  await page.getByTestId('upload-send').click();
  await expect(page.getByTestId('upload-tray')).toHaveCount(0, { timeout: 30_000 });

  // The inline thumbnail, fetched from S3 through the API, renders.
  const message = page.getByTestId('message').filter({ hasText: 'Scratch on housing' });
  const thumb = message.getByTestId('thumbnail');
  await expect.poll(() => thumb.locator('img').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);

  // The full image in the lightbox.
  await thumb.click();
  const full = page.getByTestId('lightbox').locator('img');
  await expect.poll(() => full.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
  await page.keyboard.press('Escape');

  // The PDF downloads byte for byte.
  const card = page.getByTestId('message').filter({ hasText: 'inspection.pdf' });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card.getByRole('button', { name: '下載' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('inspection.pdf');
  expect((await readFile(await download.path())).equals(PDF)).toBe(true);
});
