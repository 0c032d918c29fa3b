// Drives the dashboard of a running `certfleet serve` in Debian's chromium (headless, through
// puppeteer-core: no browser is downloaded). Called by tests/integration/dashboard_test.cpp:
//   node dashboard.mjs functional|scale PARAMETERS.json
// PARAMETERS: url, certificate_file (the server's self-signed certificate: its key is the only
// one the browser accepts), out (screenshots), tokens and expectations. Prints one line per
// check and figure; exits 1 on the first failed check, naming it.
import {createHash, X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import puppeteer from 'puppeteer-core';

const [mode, parametersFile] = process.argv.slice(2);
const p = JSON.parse(readFileSync(parametersFile, 'utf8'));
const origin = new URL(p.url).origin;
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const waitMs = 60000;

function check(condition, what) {
    if (!condition) throw new Error(`check failed: ${what}`);
    console.log(`ok - ${what}`);
}

// The base64 SHA-256 of the server's public key: chromium accepts this key and no other.
function spkiHash(file) {
    const cert = new X509Certificate(readFileSync(file));
    const der = cert.publicKey.export({type: 'spki', format: 'der'});
    return createHash('sha256').update(der).digest('base64');
}

async function launch() {
    return puppeteer.launch({
        executablePath: chromium,
        headless: true,
        args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spkiHash(p.certificate_file)}`,
               '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync',
               '--disable-domain-reliability', '--no-pings', '--disable-features=Translate,OptimizationHints'],
    });
}

// Every request the page makes, and every console error that is not an expected HTTP refusal.
function watch(page, log) {
    page.on('request', (r) => log.requests.push(r.url()));
    page.on('console', (m) => {
        if (m.type() === 'error' && !/status of (401|403)/.test(m.text())) log.errors.push(m.text());
    });
    page.on('pageerror', (e) => log.errors.push(String(e)));
}

async function ready(page, view) {
    await page.waitForFunction((v) => document.documentElement.dataset.ready === v, {timeout: waitMs}, view);
}

async function go(page, hash, view) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await ready(page, view);
}

// The whole page, or (at scale, thousands of rows long) what the window shows.
async function shot(page, name, fullPage = true) {
    await page.screenshot({path: join(p.out, `${name}.png`), fullPage});
    console.log(`screenshot ${join(p.out, `${name}.png`)}`);
}

async function signIn(page, token) {
    await page.goto(p.url, {waitUntil: 'load'});
    await ready(page, 'sign-in');
    await page.type('#token', token);
    await page.keyboard.press('Enter');
}

const text = (page, selector) => page.$eval(selector, (e) => e.textContent);
const count = (page, state) => page.$eval(`li[data-state="${state}"] .count`, (e) => Number(e.textContent));

async function headers(page) {
    const index = await page.goto(p.url, {waitUntil: 'load'});
    const h = index.headers();
    check(h['content-type'] === 'text/html; charset=utf-8', 'the page is served as text/html');
    check(/script-src 'self'/.test(h['content-security-policy']) && !/unsafe-inline/.test(h['content-security-policy']),
          'the CSP allows scripts from the server only, none inline');
    check(h['x-frame-options'] === 'DENY', 'X-Frame-Options: DENY');
    check(h['x-content-type-options'] === 'nosniff', 'X-Content-Type-Options: nosniff');
    check(h['cache-control'] === 'no-cache' && Boolean(h.etag), 'revalidated with an ETag');
    const script = await page.evaluate(async () => {
        const r = await fetch('/ui/js/app.js');
        return r.headers.get('content-type');
    });
    check(script === 'text/javascript; charset=utf-8', 'scripts are served as text/javascript');
}

async function wrongToken(page) {
    await signIn(page, 'cft_this-is-not-a-token');
    await page.waitForFunction(() => /not accepted/.test(document.getElementById('sign-in-message').textContent),
                               {timeout: waitMs});
    const message = await text(page, '#sign-in-message');
    check(message.includes('unknown, expired or revoked'), `a wrong token gets a clear message: "${message}"`);
    check(await page.$eval('#nav', (e) => e.hidden), 'nothing of the fleet is shown to a wrong token');
    await shot(page, 'sign-in');
}

async function overview(page, browser) {
    await signIn(page, p.admin_token);
    await ready(page, 'overview');
    check(await page.evaluate(() => sessionStorage.getItem('certfleet.token') !== null &&
                                     localStorage.length === 0 && document.cookie === ''),
          'the token is kept in session storage only');
    const valid = await count(page, 'valid');
    check(valid >= 1 && await count(page, 'failed') === 1, `the overview counts ${valid} valid and 1 failed`);
    const row = `table.failures tr[data-certificate="${p.failing_id}"]`;
    const problem = await text(page, `${row} .problem`);
    check(problem === p.failing_problem, `the failing certificate shows the CA's problem: "${problem}"`);
    check((await text(page, row)).includes('failed'), 'its state is written as a word');
    check(await page.$('svg.timeline rect.bar') !== null, 'the expiry timeline is drawn');
    await shot(page, 'overview');

    // Renew now: the state changes on the page, which is not reloaded.
    await page.evaluate(() => { window.notReloaded = true; });
    await page.click(`${row} button[data-action="renew"]`);
    await page.waitForFunction((r) => document.querySelector(r) === null, {timeout: 120000}, row);
    await page.waitForFunction((v) => Number(document.querySelector('li[data-state="valid"] .count').textContent) === v + 1,
                               {timeout: waitMs}, valid);
    check(await count(page, 'failed') === 0, 'after "renew now" no certificate is failing');
    check(await page.evaluate(() => window.notReloaded === true), 'the page changed without a reload');

    // A change made by another client appears by itself (the events endpoint is polled).
    const total = await page.$eval('.counts li:first-child .count', (e) => Number(e.textContent));
    const other = await browser.newPage();
    await other.goto(`${p.url}/api/v1/healthz`);
    const added = await other.evaluate(async (token, name) => {
        const r = await fetch('/api/v1/certificates', {method: 'POST', body: JSON.stringify({names: [name]}),
                                                       headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}});
        return r.status;
    }, p.admin_token, p.live_name);
    await other.close();
    check(added === 201, 'another client adds a certificate');
    await page.waitForFunction((t) => Number(document.querySelector('.counts li:first-child .count').textContent) === t + 1,
                               {timeout: waitMs}, total);
    check(await page.evaluate(() => window.notReloaded === true), 'the new certificate appears without a reload');
}

async function pages(page) {
    await go(page, '#/certificates', 'certificates');
    await page.type('#cert-search', p.failing_name);
    const rows = await page.$$eval('table.certificates tbody tr', (r) => r.map((e) => e.textContent));
    check(rows.length === 1 && rows[0].includes(p.failing_name), 'the search finds the certificate');
    await page.$eval('#cert-search', (e) => { e.value = ''; e.dispatchEvent(new Event('input')); });
    await page.click('table.certificates th:first-child button');
    check(await page.$eval('table.certificates th:first-child', (e) => e.getAttribute('aria-sort')) === 'ascending',
          'the list sorts by a column');
    await shot(page, 'certificates');

    await go(page, `#/certificate/${p.failing_id}`, 'certificate');
    const body = await text(page, '#view');
    for (const part of ['Versions', 'Orders', 'Events', 'Preflight per name', 'Deployed to', 'edge-']) {
        check(body.includes(part), `the certificate's page shows ${part}`);
    }
    check(await page.$('button[data-action="revoke"]') !== null, 'an admin is offered revoke');
    await page.click('button[data-action="revoke"]');
    const confirm = await text(page, 'dialog[open] button[data-action="confirm-revoke"]');
    check(confirm.includes(p.failing_name), `the revoke confirmation names the certificate: "${confirm}"`);
    await page.keyboard.press('Escape');
    await shot(page, 'certificate');

    await go(page, '#/domains', 'domains');
    const record = await text(page, `tr[data-domain="${p.failing_name}"] .record code`);
    check(record.startsWith(`_acme-challenge.${p.failing_name}. CNAME `), `the domain's record to create: ${record}`);
    // Add a domain through the page: the answer names the record to create, the list shows it.
    await page.type('#field-add-domain-name', p.new_domain);
    await page.click('form[data-action="add-domain"] button[type="submit"]');
    await page.waitForSelector(`tr[data-domain="${p.new_domain}"]`, {timeout: waitMs});
    const said = await text(page, 'form[data-action="add-domain"] .form-message');
    check(said.includes(`_acme-challenge.${p.new_domain}. CNAME `), `adding a domain says the record to create: "${said}"`);
    await shot(page, 'domains');

    await go(page, '#/agents', 'agents');
    const agent = await text(page, 'tr[data-agent="edge-1"]');
    check(agent.includes('Europe/Berlin') && /Agent: .*(CET|CEST|GMT\+1|GMT\+2)/.test(agent),
          `an agent's next opening is shown in its own zone: "${agent}"`);
    await shot(page, 'agents');

    // Revoke, confirmed in the dialog that names the certificate: the page shows it revoked.
    await go(page, `#/certificate/${p.live_id}`, 'certificate');
    await page.waitForFunction(() => /valid/.test(document.querySelector('.facts dd').textContent), {timeout: waitMs});
    await page.click('button[data-action="revoke"]');
    await page.select('#revoke-reason', 'superseded');
    await page.click('dialog[open] button[data-action="confirm-revoke"]');
    await page.waitForFunction(() => /revoked/.test(document.querySelector('.facts dd').textContent), {timeout: waitMs});
    check(await page.$('button[data-action="revoke"]') === null, 'a revoked certificate is shown revoked, with no revoke button');

    // A phone's width: nothing wider than the screen.
    await page.setViewport({width: 390, height: 844});
    await go(page, '#/overview', 'overview');
    check(await page.evaluate(() => document.documentElement.scrollWidth <= 391), 'the overview fits a phone');
    await shot(page, 'overview-phone');
    await page.setViewport({width: 1280, height: 900});
}

async function keyboard(page) {
    await page.goto(p.url, {waitUntil: 'load'});
    await ready(page, 'overview');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.className === 'skip'), 'the first Tab reaches "skip to the content"');
    const focusable = await page.evaluate(() => [...document.querySelectorAll('nav a')].every((a) => a.tabIndex >= 0));
    check(focusable, 'every section is reachable with the keyboard');
    await page.focus('nav a[href="#/domains"]');
    await page.keyboard.press('Enter');
    await ready(page, 'domains');
    check(true, 'Enter on a section\'s link opens it');
}

async function readOnly(browser) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const log = {requests: [], errors: []};
    watch(page, log);
    await signIn(page, p.read_token);
    await ready(page, 'overview');
    for (const [hash, view] of [['#/overview', 'overview'], ['#/certificates', 'certificates'],
                                [`#/certificate/${p.failing_id}`, 'certificate'], ['#/domains', 'domains'],
                                ['#/agents', 'agents']]) {
        await go(page, hash, view);
        const actions = await page.$$eval('[data-action]', (e) => e.map((x) => x.dataset.action));
        check(actions.length === 0, `a read-only token sees no action on ${view}`);
    }
    const refused = await page.evaluate(async (id) => {
        const r = await fetch(`/api/v1/certificates/${id}/renew`, {method: 'POST',
            headers: {Authorization: `Bearer ${sessionStorage.getItem('certfleet.token')}`}});
        return [r.status, (await r.json()).error.code];
    }, 1);
    check(refused[0] === 403 && refused[1] === 'forbidden', 'the API refuses "renew now" to a read-only token');
    await context.close();
    return log;
}

function sameHost(log) {
    const foreign = log.requests.filter((u) => new URL(u).origin !== origin);
    check(log.requests.length > 0 && foreign.length === 0,
          `${log.requests.length} requests, none to another host${foreign.length ? `: ${foreign.join(' ')}` : ''}`);
    check(log.errors.length === 0, `no script or CSP error${log.errors.length ? `: ${log.errors.join(' | ')}` : ''}`);
}

async function functional(browser) {
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 900});
    const log = {requests: [], errors: []};
    watch(page, log);
    await headers(page);
    await wrongToken(page);
    await overview(page, browser);
    await pages(page);
    await keyboard(page);
    sameHost(log);
    sameHost(await readOnly(browser));
}

// The time from the navigation's start until the section is drawn and answers input.
async function timed(page, hash, view) {
    await page.goto(`${p.url}/${hash}`, {waitUntil: 'load'});
    await page.reload({waitUntil: 'load'});
    await ready(page, view);
    return page.evaluate((v) => {
        const mark = performance.getEntriesByName(`certfleet:ready:${v}`)[0];
        const nav = performance.getEntriesByType('navigation')[0];
        return {ready: Math.round(mark.startTime), domInteractive: Math.round(nav.domInteractive)};
    }, view);
}

async function scale(browser) {
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 900});
    const log = {requests: [], errors: []};
    watch(page, log);
    await signIn(page, p.read_token);
    await ready(page, 'overview');
    check(await count(page, 'valid') + await count(page, 'failed') + await count(page, 'revoked') === p.certificates,
          `the overview counts all ${p.certificates} certificates`);
    for (const [hash, view, what] of [['#/overview', 'overview', `${p.certificates} certificates and ${p.agents} agents`],
                                      ['#/certificates', 'certificates', `${p.certificates} certificates`],
                                      ['#/agents', 'agents', `${p.agents} agents`]]) {
        const t = await timed(page, hash, view);
        console.log(`figure: ${view} ready in ${t.ready} ms (DOM interactive ${t.domInteractive} ms) with ${what}`);
        check(t.ready < 10000, `${view} loads and becomes interactive in under 10 s`);
        await shot(page, `${view}-scale`, false);
    }
    check(await page.$$eval('table.agents tbody tr', (r) => r.length) === p.agents, `all ${p.agents} agents are listed`);
    await go(page, '#/certificates', 'certificates');
    const start = await page.evaluate(() => performance.now());
    await page.type('#cert-search', 'host4999.');
    const rows = await page.$$eval('table.certificates tbody tr', (r) => r.length);
    const took = Math.round(await page.evaluate(() => performance.now()) - start);
    console.log(`figure: searching ${p.certificates} certificates (9 keystrokes) took ${took} ms`);
    check(rows === 1, 'the search narrows 5,000 certificates to one');
    sameHost(log);
}

const browser = await launch();
let failed = false;
try {
    await (mode === 'scale' ? scale : functional)(browser);
    console.log('dashboard: all checks passed');
} catch (e) {
    failed = true;
    console.log(`not ok - ${e.message}`);
} finally {
    await browser.close();
}
process.exit(failed ? 1 : 0);
