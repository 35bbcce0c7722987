// The public pages (internal/pages) as a reader and a link preview see
// them: the front page, one activity and one story, opened in headless
// Chromium (Debian's, driven by playwright-core; nothing is downloaded)
// at a phone's width, at 320 CSS pixels (what 1280 px at 400 % is; WCAG's
// reflow) and on a desktop, checked with axe-core for WCAG 2.1 A and AA:
// no serious or critical violation. Every request to another host is
// blocked and must not be tried: the pages load nothing from third
// parties. The Open Graph and Twitter tags are read with
// open-graph-scraper (not our HTML walk), and the JSON-LD is held to
// schema.org's and Google's required properties of Event and Article.
//
// Needs VORESISHOJ_URL (see .ci/run) and /usr/bin/chromium (CHROMIUM to
// use another).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import ogs from 'open-graph-scraper';

const require = createRequire(import.meta.url);
const base = process.env.VORESISHOJ_URL;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const axePath = require.resolve('axe-core/axe.min.js');

async function html(path) {
  const res = await fetch(new URL(path, base), { redirect: 'manual' });
  assert.equal(res.status, 200, `GET ${path}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  return res.text();
}

// The first link on the front page to a page of the given kind.
function firstLink(body, kind) {
  const m = body.match(new RegExp(`href="([^"]*/${kind}/[A-Za-z0-9_-]+)"`));
  assert.ok(m, `the front page links no ${kind}`);
  return new URL(m[1]).pathname;
}

const offset = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/;

function checkEvent(ev) {
  assert.equal(ev['@context'], 'https://schema.org');
  assert.equal(ev['@type'], 'Event');
  // schema.org/Event as Google's event rich results require it.
  for (const k of ['name', 'startDate', 'location']) assert.ok(ev[k], `Event lacks ${k}`);
  for (const k of ['endDate', 'eventStatus', 'organizer', 'url', 'eventAttendanceMode']) assert.ok(ev[k], `Event lacks ${k}`);
  assert.match(ev.startDate, offset, 'startDate with an offset');
  assert.match(ev.endDate, offset, 'endDate with an offset');
  assert.ok(Date.parse(ev.endDate) > Date.parse(ev.startDate), 'the event ends after it starts');
  assert.ok(['https://schema.org/EventScheduled', 'https://schema.org/EventCancelled',
    'https://schema.org/EventRescheduled', 'https://schema.org/EventPostponed'].includes(ev.eventStatus));
  assert.equal(ev.location['@type'], 'Place');
  assert.ok(ev.location.name);
  assert.equal(ev.location.address['@type'], 'PostalAddress');
  assert.ok(ev.location.address.addressLocality && ev.location.address.addressCountry);
  if (ev.location.geo) {
    assert.equal(ev.location.geo['@type'], 'GeoCoordinates');
    assert.equal(typeof ev.location.geo.latitude, 'number');
  }
  assert.equal(ev.organizer['@type'], 'Organization');
  assert.ok(ev.organizer.name);
}

function checkArticle(a) {
  assert.equal(a['@context'], 'https://schema.org');
  assert.equal(a['@type'], 'Article');
  for (const k of ['headline', 'author', 'datePublished', 'dateModified', 'publisher', 'mainEntityOfPage']) {
    assert.ok(a[k], `Article lacks ${k}`);
  }
  assert.ok(a.headline.length <= 110, 'headline at most 110 characters');
  assert.equal(a.author['@type'], 'Person');
  assert.ok(a.author.name);
  assert.match(a.datePublished, offset);
  assert.equal(a.publisher['@type'], 'Organization');
}

test('public pages: accessible, previewable, structured', { timeout: 180000 }, async (t) => {
  assert.ok(base, 'VORESISHOJ_URL must be set');
  assert.ok(existsSync(executablePath), `${executablePath} is missing (apt-get install chromium; .ci/run does)`);
  const front = await html('/forside');
  const pages = [
    { name: 'front page', path: '/forside' },
    { name: 'activity', path: firstLink(front, 'activities'), type: 'Event' },
    { name: 'story', path: firstLink(front, 'stories'), type: 'Article' },
  ];

  // Open Graph and Twitter cards, read by an independent parser.
  for (const p of pages) {
    const body = await html(p.path);
    const { error, result } = await ogs({ html: body });
    assert.equal(error, false, `${p.name}: open-graph-scraper failed`);
    assert.ok(result.ogTitle, `${p.name}: og:title`);
    assert.ok(result.ogDescription, `${p.name}: og:description`);
    assert.ok(result.ogSiteName, `${p.name}: og:site_name`);
    assert.ok(['website', 'article'].includes(result.ogType), `${p.name}: og:type ${result.ogType}`);
    assert.equal(result.ogUrl, new URL(p.path, base).href, `${p.name}: og:url is the canonical address`);
    assert.ok(['summary', 'summary_large_image'].includes(result.twitterCard), `${p.name}: twitter:card`);
    assert.ok(result.twitterTitle, `${p.name}: twitter:title`);
    if (result.ogImage?.length) assert.match(result.ogImage[0].url, /^https?:\/\//);
    if (p.type === 'Article') assert.equal(result.ogType, 'article');
  }

  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  const origin = new URL(base).origin;
  const viewports = [
    { name: 'phone', width: 375, height: 740 },
    { name: '320 px (reflow, 400 % zoom)', width: 320, height: 640 },
    { name: '200 % zoom of 1280', width: 640, height: 400 },
    { name: 'desktop', width: 1280, height: 800 },
  ];
  for (const vp of viewports) {
    const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, locale: 'da-DK' });
    const blocked = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    for (const p of pages) {
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => {
        // Story photos of the demo data are not in the media store.
        if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/media/')) problems.push(`${r.status()}: ${r.url()}`);
      });
      await page.goto(new URL(p.path, base).href, { waitUntil: 'load' });
      assert.equal(await page.getAttribute('html', 'lang'), 'da');
      assert.equal(await page.locator('h1').count(), 1, `${p.name}: one h1`);
      await page.addScriptTag({ path: axePath });
      const results = await page.evaluate(() => window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      }));
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
        `${p.name} at ${vp.name}: axe-core violations`);
      assert.ok(results.passes.length > 10, 'axe-core ran its rules');
      // Nothing scrolls sideways: the page reflows to the width.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${p.name} at ${vp.name}: ${overflow}px of horizontal scrolling`);
      if (p.type) {
        const lds = (await page.$$eval('script[type="application/ld+json"]', (s) => s.map((e) => e.textContent)))
          .flatMap((text) => { const v = JSON.parse(text); return Array.isArray(v) ? v : [v]; });
        const mine = lds.filter((v) => v['@type'] === p.type);
        assert.ok(mine.length > 0, `${p.name}: no ${p.type} JSON-LD`);
        for (const v of mine) (p.type === 'Event' ? checkEvent : checkArticle)(v);
      }
      assert.deepEqual(problems, [], `${p.name} at ${vp.name}`);
      await page.close();
    }
    assert.deepEqual(blocked, [], `the pages asked another host for something at ${vp.name}`);
    await context.close();
  }

  // Every language of the catalogue, as the language menu offers it: the
  // lang and dir attributes (right to left for Arabic and Urdu), and
  // axe-core on the front page and the story in each.
  const langs = [...front.matchAll(/<link rel="alternate" hreflang="([a-z-]+)" href="([^"]+)">/g)].map((m) => m[1]);
  assert.ok(langs.includes('da') && langs.includes('en'), `languages offered: ${langs}`);
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
  for (const code of langs) {
    for (const p of [pages[0], pages[2]]) {
      const page = await phone.newPage();
      await page.goto(new URL(`${p.path}?lang=${code}`, base).href, { waitUntil: 'load' });
      assert.equal(await page.getAttribute('html', 'lang'), code);
      assert.equal(await page.getAttribute('html', 'dir'), ['ar', 'ur', 'fa', 'he'].includes(code) ? 'rtl' : 'ltr', `${code}: dir`);
      await page.addScriptTag({ path: axePath });
      const results = await page.evaluate(() => window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      }));
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `${p.name} in ${code}: axe-core violations`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${p.name} in ${code}: ${overflow}px of horizontal scrolling`);
      await page.close();
    }
  }
  await phone.close();

  // Readable with JavaScript off: the page is the HTML.
  const noJS = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 740 } });
  const page = await noJS.newPage();
  await page.goto(new URL(pages[1].path, base).href);
  assert.ok((await page.locator('main h1').innerText()).length > 0);
  await noJS.close();
});

test('public pages: a cancelled activity, found through the calendar feed', { timeout: 60000 }, async (t) => {
  assert.ok(base, 'VORESISHOJ_URL must be set');
  const ics = await (await fetch(new URL('/ical/activities.ics', base))).text();
  const cancelled = ics.split('BEGIN:VEVENT').find((ev) => /\r?\nSTATUS:CANCELLED\r?\n/.test(ev));
  assert.ok(cancelled, 'the demo data has a cancelled activity in the public calendar');
  const url = cancelled.match(/\r?\nURL:(\S+)\r?\n/)?.[1];
  assert.ok(url?.startsWith(`${new URL(base).origin}/activities/`), `URL: ${url}`);
  const body = await html(new URL(url).pathname);
  assert.match(body, /class="badge cancelled">Aflyst</);
  const { result } = await ogs({ html: body });
  assert.match(result.ogTitle, /^Aflyst: /);

  const browser = await chromium.launch({ executablePath, headless: true, args: ['--headless', '--no-sandbox', '--disable-background-networking'] });
  t.after(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'da-DK' })).newPage();
  await page.goto(url, { waitUntil: 'load' });
  const lds = (await page.$$eval('script[type="application/ld+json"]', (s) => s.map((e) => e.textContent)))
    .flatMap((text) => { const v = JSON.parse(text); return Array.isArray(v) ? v : [v]; });
  assert.ok(lds.length > 0);
  for (const ev of lds) {
    checkEvent(ev);
    assert.equal(ev.eventStatus, 'https://schema.org/EventCancelled');
  }
  await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  assert.deepEqual(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id), []);
});

test('public pages: languages, 404, app links', async () => {
  assert.ok(base, 'VORESISHOJ_URL must be set');
  const en = await fetch(new URL('/forside', base), { headers: { 'accept-language': 'en' } });
  assert.match(await en.text(), /<html lang="en" dir="ltr">/);
  const missing = await fetch(new URL('/stories/U3Rvcnk6OTk5OTk5', base));
  assert.equal(missing.status, 404);
  const robots = await (await fetch(new URL('/robots.txt', base))).text();
  assert.match(robots, /Sitemap: http/);
  const sitemap = await fetch(new URL('/sitemap.xml', base));
  assert.equal(sitemap.status, 200);
  assert.match(await sitemap.text(), /<urlset xmlns="http:\/\/www.sitemaps.org\/schemas\/sitemap\/0.9">/);
});
