// The dashboard's shell: sign-in, the sections (hash routes), and live updates by polling the
// event log. Each section is a module with show(element, context, parameter) that renders it and
// may return {refresh()} to bring its data up to date without losing what the user typed.
import {ApiError, abilities, get, token} from './api.js';
import {fill, h} from './dom.js';
import * as overview from './overview.js';
import * as certificates from './certificates.js';
import * as certificate from './certificate.js';
import * as domains from './domains.js';
import * as agents from './agents.js';

const routes = {overview, certificates, certificate, domains, agents};
const pollMs = 2000;

const $ = (id) => document.getElementById(id);
let session = null;
let current = null;
let eventCursor = null;
let eventsSince = null;
let pollTimer = null;
let refreshing = false;
let refreshAgain = false;
let showing = 0;

function say(text) {
    $('live').textContent = text;
}

function parseRoute() {
    const [, name = 'overview', parameter] = location.hash.match(/^#\/([a-z]+)(?:\/(.+))?$/) || [];
    return {name: routes[name] ? name : 'overview', parameter: parameter && decodeURIComponent(parameter)};
}

function context() {
    return {session, can: abilities(session.scope), say, refresh: refreshNow};
}

// Draws the section the location names. A section is drawn off-page and put in place only when
// no newer navigation happened meanwhile.
async function show() {
    if (!session) return;
    const seq = ++showing;
    const {name, parameter} = parseRoute();
    for (const link of document.querySelectorAll('#nav a')) {
        const active = link.getAttribute('href') === `#/${name === 'certificate' ? 'certificates' : name}`;
        if (active) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
    }
    const view = $('view');
    delete document.documentElement.dataset.ready;
    current = null;
    fill(view, h('p', {class: 'muted'}, 'Loading…'));
    const container = h('div');
    try {
        const shown = (await routes[name].show(container, context(), parameter)) || null;
        if (seq !== showing) return;
        current = shown;
        fill(view, container);
        document.title = `${container.querySelector('h1')?.textContent || name} · certfleet`;
        document.documentElement.dataset.ready = name;
        performance.mark(`certfleet:ready:${name}`);
    } catch (e) {
        if (seq === showing) failed(e);
    }
}

function failed(e) {
    if (e instanceof ApiError && e.status === 401) {
        signOut(`Signed out: ${e.message}. Sign in with a valid token.`);
        return;
    }
    fill($('view'), h('p', {class: 'error', role: 'alert'}, `Could not load this page: ${e.message}`));
    document.documentElement.dataset.ready = 'error';
}

// Brings the section up to date; a request made while one runs is served after it.
async function refreshNow() {
    if (!current || !current.refresh) return; // a section being drawn reads fresh data anyway
    if (refreshing) {
        refreshAgain = true;
        return;
    }
    refreshing = true;
    try {
        do {
            refreshAgain = false;
            await current.refresh();
        } while (refreshAgain && current && current.refresh);
    } catch (e) {
        failed(e);
    } finally {
        refreshing = false;
    }
}

// New events since the last poll: say the newest, bring the section up to date.
async function poll() {
    pollTimer = null;
    if (!session) return;
    try {
        const query = eventCursor ? `cursor=${eventCursor}`
                                  : `since=${encodeURIComponent(eventsSince)}`;
        let page = await get(`/api/v1/events?limit=1000&${query}`);
        const fresh = [...page.items];
        while (page.next_cursor) {
            eventCursor = page.next_cursor;
            page = await get(`/api/v1/events?limit=1000&cursor=${eventCursor}`);
            fresh.push(...page.items);
        }
        if (fresh.length) {
            eventCursor = String(fresh[fresh.length - 1].id);
            const last = fresh[fresh.length - 1];
            say(`${new Date(last.at).toLocaleTimeString()}: ${last.message}`);
            await refreshNow();
        }
        $('poll-state').textContent = 'Live updates on';
    } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
            signOut(`Signed out: ${e.message}.`);
            return;
        }
        $('poll-state').textContent = 'Server unreachable: retrying';
    }
    if (session) pollTimer = setTimeout(poll, pollMs);
}

function signOut(message) {
    token.clear();
    session = null;
    current = null;
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    $('nav').hidden = true;
    $('who').hidden = true;
    fill($('view'));
    $('sign-in').hidden = false;
    $('sign-in-message').textContent = message || '';
    document.documentElement.dataset.ready = 'sign-in';
    $('token').focus();
}

// Checks a token against the server; the session on success.
async function start(secret) {
    const who = await get('/api/v1/session', secret);
    session = who;
    eventsSince = who.server_time;
    eventCursor = null;
    $('sign-in').hidden = true;
    $('nav').hidden = false;
    $('who').hidden = false;
    $('who-text').textContent = `${who.name} (${who.scope})`;
    await show();
    pollTimer = setTimeout(poll, pollMs);
}

function signInMessage(e) {
    if (!(e instanceof ApiError)) return `Sign-in failed: ${e.message}`;
    if (e.status === 401) return `This token was not accepted: ${e.message}. ` +
                                 'Check it, or make one with `certfleet token create`.';
    if (e.status === 403) return 'This token cannot read the fleet (its scope is for acme-dns ' +
                                 'registration only): use a read, renew or admin token.';
    if (e.status === 429) return `Too many failed sign-ins from this address: ${e.message}.`;
    return e.message;
}

async function signIn(event) {
    event.preventDefault();
    const input = $('token');
    const secret = input.value.trim();
    if (!secret) {
        $('sign-in-message').textContent = 'Paste an API token first.';
        return;
    }
    $('sign-in-message').textContent = 'Checking the token…';
    try {
        token.set(secret);
        await start(secret);
        input.value = '';
        $('sign-in-message').textContent = '';
    } catch (e) {
        token.clear();
        session = null;
        $('sign-in-message').textContent = signInMessage(e);
        document.documentElement.dataset.ready = 'sign-in';
        input.select();
    }
}

function init() {
    $('sign-in-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    // After a navigation the keyboard and screen readers continue at the new section.
    window.addEventListener('hashchange', () => show().then(() => $('main').focus()));
    const saved = token.get();
    if (!saved) {
        signOut('');
        return;
    }
    start(saved).catch((e) => signOut(signInMessage(e)));
}

init();
