/** Debian's headless Chromium through playwright-core, with the flags this machine needs (.ci/run installs it). */
import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { prerequisite } from './shared.ts';

const CHROMIUM = process.env.AER_CHROMIUM ?? '/usr/bin/chromium';

export const needsChromium = prerequisite(fs.existsSync(CHROMIUM), `needs Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);

export function launchChromium(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      ...extra,
    ],
  });
}
