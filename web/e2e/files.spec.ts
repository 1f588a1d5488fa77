import { expect, test, type Page, type Request, type Route } from '@playwright/test';
import { login, openRoom, rest, shot, unique, USERS } from './helpers';

// A one-page PDF (the server sniffs `%PDF-`).
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
  '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** A real PNG drawn in the page: a conveyor belt over rollers, torn at one of them. */
async function png(page: Page, width: number, height: number, tear: number): Promise<Buffer> {
  const dataUrl = await page.evaluate(([w, h, tearAt]) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const g = c.getContext('2d')!;
    const sky = g.createLinearGradient(0, 0, 0, h);
    sky.addColorStop(0, '#cbd5e1');
    sky.addColorStop(1, '#64748b');
    g.fillStyle = sky;
    g.fillRect(0, 0, w, h);
    const y = h * 0.45;
    g.fillStyle = '#1f2937';
    g.fillRect(0, y - h * 0.08, w, h * 0.16);
    for (let i = 0; i < 6; i++) {
      const x = (i + 0.5) * (w / 6);
      g.beginPath();
      g.arc(x, y + h * 0.14, h * 0.06, 0, Math.PI * 2);
      g.fillStyle = '#9ca3af';
      g.fill();
      g.strokeStyle = '#374151';
      g.lineWidth = h * 0.01;
      g.stroke();
    }
    const tx = (tearAt + 0.5) * (w / 6);
    g.strokeStyle = '#f97316';
    g.lineWidth = h * 0.012;
    g.beginPath();
    g.moveTo(tx - w * 0.05, y - h * 0.07);
    g.lineTo(tx, y);
    g.lineTo(tx - w * 0.03, y + h * 0.02);
    g.lineTo(tx + w * 0.04, y + h * 0.07);
    g.stroke();
    return c.toDataURL('image/png');
  }, [width, height, tear] as const);
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/** Slows uploads down so progress can be seen (Chromium's network emulation). */
async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  };
}

test('several files upload at once with their own progress; the one the server refuses says why', async ({ page, request }) => {
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title: unique('Belt tear line 4'), incident_type: 'equipment_failure', severity: 'high' });
  await login(page, USERS.lin);
  await openRoom(page, room.id);
  const belt = await png(page, 1100, 700, 3);
  const roller = await png(page, 900, 600, 1);

  await page.getByTestId('file-input').setInputFiles([
    { name: 'belt-tear.png', mimeType: 'image/png', buffer: belt },
    { name: 'roller-4.png', mimeType: 'image/png', buffer: roller },
    { name: 'vibration-readings.pdf', mimeType: 'application/pdf', buffer: PDF },
    // Named and typed as a PNG, so the client lets it through: the server sniffs
    // the bytes (binary, no known signature) and refuses it (415 unsupported_media_type).
    { name: 'sensor-export.png', mimeType: 'image/png', buffer: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)) },
  ]);
  const tray = page.getByTestId('upload-tray');
  await expect(tray.getByTestId('upload')).toHaveCount(4);
  await expect(tray.getByTestId('upload').filter({ hasText: 'belt-tear.png' })).toHaveAttribute('data-state', 'staged');
  // A staged file can be removed before sending, and comes back when picked again.
  await tray.getByRole('button', { name: '移除「vibration-readings.pdf」' }).click();
  await expect(tray.getByTestId('upload')).toHaveCount(3);
  await page.getByTestId('file-input').setInputFiles([{ name: 'vibration-readings.pdf', mimeType: 'application/pdf', buffer: PDF }]);
  await tray.getByRole('textbox', { name: '「belt-tear.png」的說明（選填）' }).fill('皮帶在 4 號滾輪處撕裂');
  await expect(page.getByTestId('upload-send')).toHaveText('傳送 4 個檔案');

  const unthrottle = await throttleUploads(page, 20 * 1024);
  await page.getByTestId('upload-send').click();
  // Two at a time, each with its own bar; the others wait their turn.
  await expect(tray.getByTestId('upload-progress')).toHaveCount(2);
  await expect(tray.locator('[data-state=waiting]')).toHaveCount(2);
  await expect.poll(() => tray.getByTestId('upload-progress').first().evaluate((p: HTMLProgressElement) => p.value)).toBeGreaterThan(0);
  await shot(page, 'upload-progress');
  await unthrottle();

  // The refused file stays with the server's reason in the page's language; the
  // others are posted.
  const refused = tray.getByTestId('upload').filter({ hasText: 'sensor-export.png' });
  await expect(refused).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
  await expect(refused.getByRole('alert')).toHaveText('「sensor-export.png」被伺服器拒收：內容不是允許的檔案類型，或圖片無法讀取。');
  await expect(tray.getByTestId('upload')).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('thumbnail')).toHaveCount(2);
  const pdfMessage = page.getByTestId('message').filter({ hasText: 'vibration-readings.pdf' });
  await expect(pdfMessage).toBeVisible();
  await refused.getByTestId('upload-cancel').click();
  await expect(tray).toHaveCount(0);

  // The caption is the text of the image's message, under the thumbnail.
  const captioned = page.getByTestId('message').filter({ hasText: '皮帶在 4 號滾輪處撕裂' });
  await expect(captioned.getByTestId('thumbnail')).toBeVisible();
  await expect.poll(() => captioned.getByTestId('thumbnail').locator('img').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
  await page.mouse.move(1, 1);
  await shot(page, 'conversation-image');

  // Thumbnail → lightbox with the full image; Escape closes it and gives focus back.
  const thumb = captioned.getByTestId('thumbnail');
  await thumb.click();
  const lightbox = page.getByTestId('lightbox');
  await expect.poll(() => lightbox.locator('img').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(1100);
  await expect(lightbox.getByRole('button', { name: '關閉' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(lightbox).toHaveCount(0);
  await expect(thumb).toBeFocused();
  // The close button (a large touch target) closes it too.
  await thumb.click();
  await lightbox.getByRole('button', { name: '關閉' }).click();
  await expect(lightbox).toHaveCount(0);
  await expect(thumb).toBeFocused();

  // The files panel filters by kind, with counts.
  await page.getByTestId('file-input').setInputFiles([{ name: 'plc-log.txt', mimeType: 'text/plain', buffer: Buffer.from('12:01 E-STOP line 4\n') }]);
  await page.getByTestId('upload-send').click();
  await expect(page.getByTestId('message').filter({ hasText: 'plc-log.txt' })).toBeVisible();
  await page.getByTestId('tab-files').click();
  const panel = page.getByTestId('files-panel');
  await expect(panel.getByTestId('file-item')).toHaveCount(4);
  await expect(panel.getByTestId('files-filter-all')).toContainText('4');
  await expect(panel.getByTestId('files-filter-images')).toContainText('2');
  await expect(panel.getByTestId('files-filter-documents')).toContainText('1');
  await expect(panel.getByTestId('files-filter-other')).toContainText('1');
  await panel.getByTestId('files-filter-images').click();
  await expect(panel.getByTestId('files-filter-images')).toHaveAttribute('aria-pressed', 'true');
  await expect(panel.getByTestId('file-item')).toHaveCount(2);
  await expect(panel.getByTestId('file-item').and(page.locator('[data-kind=image]'))).toHaveCount(2);
  await panel.getByTestId('files-filter-documents').click();
  await expect(panel.getByTestId('file-item')).toHaveCount(1);
  await expect(panel.getByTestId('file-item')).toContainText('vibration-readings.pdf');
  await panel.getByTestId('files-filter-other').click();
  await expect(panel.getByTestId('file-item')).toHaveText([/plc-log\.txt/]);
  await panel.getByTestId('files-filter-all').click();
  await expect(panel.getByTestId('file-item')).toHaveCount(4);
});

test('a file being uploaded can be cancelled while the others go on, at phone width', async ({ page, request }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const lin = await rest(request, USERS.lin);
  const room = await lin.call('POST', '/api/rooms', { title: unique('Label printer jam'), incident_type: 'other', severity: 'low' });
  await login(page, USERS.lin);
  await openRoom(page, room.id);
  const big = await png(page, 390, 844, 2);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'jam-photo.png', mimeType: 'image/png', buffer: big },
    { name: 'printer-log.txt', mimeType: 'text/plain', buffer: Buffer.from('jam at 08:12\n') },
    { name: 'spare-photo.png', mimeType: 'image/png', buffer: big },
  ]);
  const tray = page.getByTestId('upload-tray');
  // Every upload is held in the browser until the test lets it go, so which one
  // reaches the server does not depend on how fast the machine is.
  const fileName = (r: Request) => /filename="([^"]+)"/.exec(r.postDataBuffer()?.toString('latin1') ?? '')?.[1] ?? '';
  const held = new Map<string, Route>();
  await page.route(`**/api/rooms/${room.id}/files`, (route) => void held.set(fileName(route.request()), route));
  const aborted: string[] = [];
  page.on('requestfailed', (r) => aborted.push(fileName(r)));
  await page.getByTestId('upload-send').click();
  const jam = tray.getByTestId('upload').filter({ hasText: 'jam-photo.png' });
  const spare = tray.getByTestId('upload').filter({ hasText: 'spare-photo.png' });
  await expect(jam).toHaveAttribute('data-state', 'uploading');
  // The third waits for a free slot; cancelling it means it never starts.
  await expect(spare).toHaveAttribute('data-state', 'waiting');
  await spare.getByRole('button', { name: '取消上傳「spare-photo.png」' }).click();
  await jam.getByRole('button', { name: '取消上傳「jam-photo.png」' }).click();
  await expect(jam).toHaveCount(0);
  // Cancelling aborts the request itself, not just its line in the tray.
  await expect.poll(() => aborted).toEqual(['jam-photo.png']);
  await expect.poll(() => held.has('printer-log.txt')).toBe(true);
  expect(held.has('spare-photo.png')).toBe(false);
  await held.get('printer-log.txt')!.continue();
  await expect(page.getByTestId('message').filter({ hasText: 'printer-log.txt' })).toBeVisible();
  await expect(tray).toHaveCount(0);
  const files = await lin.call('GET', `/api/rooms/${room.id}/files`);
  expect(files.files.map((f: { name: string }) => f.name)).toEqual(['printer-log.txt']);
});
