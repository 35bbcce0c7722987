// The GraphiQL explorer at / in headless Chromium (Debian's, driven by
// playwright-core; no browser is downloaded) with every request to another
// host blocked, as on a locked-down network: the editor renders and a
// query typed into it runs against the server.
//
// Needs VORESISHOJ_URL (see .ci/run) and /usr/bin/chromium (CHROMIUM to
// use another).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.VORESISHOJ_URL;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('GraphiQL renders and runs a query without internet', { timeout: 60000 }, async (t) => {
  assert.ok(base, 'VORESISHOJ_URL must be set');
  assert.ok(existsSync(executablePath), `${executablePath} is missing (apt-get install chromium; .ci/run does)`);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const origin = new URL(base).origin;
  const blocked = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (new URL(r.url()).origin === origin) problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
  });

  await page.goto(`${base}/`, { waitUntil: 'load' });
  // The query editor (CodeMirror) and the run button are there.
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ state: 'visible', timeout: 20000 });
  await page.locator('.graphiql-execute-button').waitFor({ state: 'visible' });

  await page.evaluate(() => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ themes { slug name } }');
  });
  const answered = page.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST'
    && (r.request().postData() ?? '').includes('themes'));
  await page.locator('.graphiql-execute-button').click();
  const response = await answered;
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /json/);
  const result = page.locator('.graphiql-response .CodeMirror');
  await result.getByText('"faellesskab"').waitFor({ timeout: 20000 });

  assert.deepEqual(blocked, [], 'the explorer asked another host for something');
  assert.deepEqual(problems, []);
});
