// A real Chromium for the browser tests, installed from the npm registry alone: @sparticuz/chromium ships the
// browser, playwright-core drives it. The browser brings only a Latin font, so a Chinese one (Noto Sans SC, from
// npm too) is given to it through its own fontconfig file: pages render as a county official sees them.
import sparticuz from '@sparticuz/chromium';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const require = createRequire(import.meta.url);

/** A fontconfig directory naming the Chinese font where npm put it. */
function fontConfig(): string {
  const font = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');
  const dir = join(tmpdir(), 'safeduty-browser-fonts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'fonts.conf'),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${dirname(font)}</dir>\n  <cachedir>${join(dir, 'cache')}</cachedir>\n</fontconfig>\n`,
  );
  return dir;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: await sparticuz.executablePath(),
    args: sparticuz.args,
    headless: true,
    env: { ...process.env, FONTCONFIG_PATH: fontConfig() },
  });
}
