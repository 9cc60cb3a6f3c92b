import { chromium } from 'playwright-core';

/**
 * Headless Chromium (CHROMIUM, default /usr/bin/chromium) as the package tests run it; `args`
 * adds command-line flags.
 */
export function launchChromium({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...args,
    ],
  });
}
