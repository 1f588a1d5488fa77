import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser; scripts/web-test starts the server
// and passes its address in ANDON_URL (and the fake AD's in ANDON_AD_URL).
// e2e/s3.spec.ts needs a server whose files are on S3: scripts/web-test starts one
// and runs it with ANDON_E2E_S3=1; every other run leaves it out.
export default defineConfig({
  testDir: './e2e',
  testIgnore: process.env.ANDON_E2E_S3 ? [] : ['**/s3.spec.ts'],
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.ANDON_URL ?? 'http://127.0.0.1:8080',
    viewport: { width: 1280, height: 800 },
    locale: 'zh-TW',
    timezoneId: 'Asia/Taipei',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
