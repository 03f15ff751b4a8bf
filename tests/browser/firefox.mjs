// Drives Debian's Firefox ESR over WebDriver (selenium-webdriver with the geckodriver that
// scripts/setup.sh installs from crates.io: nothing is downloaded), headless, WebGPU enabled.
import { execFileSync } from 'node:child_process';
import { Builder } from 'selenium-webdriver';
import firefox from 'selenium-webdriver/firefox.js';

export function geckodriverPath() {
  return process.env.GECKODRIVER ?? execFileSync('bash', ['-lc', 'command -v geckodriver']).toString().trim();
}

export async function launchFirefox() {
  const options = new firefox.Options()
    .addArguments('-headless')
    .setBinary(process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr')
    .setPreference('dom.webgpu.enabled', true)
    .setPreference('gfx.webgpu.ignore-blocklist', true);
  const service = new firefox.ServiceBuilder(geckodriverPath());
  const driver = await new Builder().forBrowser('firefox').setFirefoxOptions(options).setFirefoxService(service).build();
  await driver.manage().setTimeouts({ script: 600_000, pageLoad: 60_000 });
  return driver;
}

/** Runs an async function in the page (its last argument is the callback) and returns its value. */
export async function evaluate(driver, fn, ...args) {
  return driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
    (${fn.toString()})(...Array.from(arguments).slice(0, -1)).then(done, (e) => done({ __error: String(e && e.stack || e) }));`, ...args);
}
