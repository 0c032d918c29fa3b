// Overview: certificates by state, the expiry timeline, failures with the CA's own words, expiry
// alerts and the next renewals.
import {all, get} from './api.js';
import {badge, empty, fill, h, names, section, timeCell} from './dom.js';
import {renewButton} from './actions.js';
import {timeline} from './timeline.js';

const stateOrder = ['valid', 'pending', 'issuing', 'failed', 'revoked'];

function certLink(c) {
    return h('a', {href: `#/certificate/${c.id}`}, names(c.names) || `#${c.id}`);
}

function counts(status) {
    const states = [...new Set([...stateOrder, ...Object.keys(status.by_state)])];
    return h('ul', {class: 'counts', 'aria-label': 'Certificates by state'},
             h('li', {}, h('a', {href: '#/certificates'}, h('strong', {class: 'count'}, status.certificates),
                           ' total')),
             states.map((s) => h('li', {dataset: {state: s}},
                                 h('a', {href: `#/certificates/${s}`},
                                   h('strong', {class: 'count'}, status.by_state[s] || 0), ' ', badge(s)))));
}

function failures(ctx, status) {
    if (!status.failures.length) return empty('No certificate is failing.');
    const shown = status.failures.slice(0, 20);
    const more = status.failures.length - shown.length;
    return [h('table', {class: 'failures'},
             h('thead', {}, h('tr', {}, h('th', {}, 'Certificate'), h('th', {}, 'State'),
                              h('th', {}, 'Problem (as the CA or the check said it)'), h('th', {}, ''))),
             h('tbody', {}, shown.map((f) => h('tr', {dataset: {certificate: f.id}},
                 h('td', {}, certLink(f)), h('td', {}, badge(f.state)),
                 h('td', {}, h('span', {class: 'problem'}, f.problem)),
                 h('td', {}, renewButton(ctx, f)))))),
            more > 0 ? h('p', {}, h('a', {href: '#/certificates/failed'}, `${more} more failing certificates`)) : null];
}

function alerts(list, now) {
    const soon = list.filter((c) => c.state !== 'revoked' && c.not_after &&
                                    new Date(c.not_after).getTime() - now < 14 * 86400000)
                     .sort((a, b) => a.not_after.localeCompare(b.not_after));
    const flagged = list.filter((c) => c.alert && !soon.includes(c));
    const rows = [...soon, ...flagged].slice(0, 50);
    if (!rows.length) return empty('No certificate expires within 14 days.');
    return h('div', {},
             h('ul', {class: 'alerts'}, rows.map((c) => h('li', {},
                 h('span', {class: 'alert-word'}, new Date(c.not_after) <= now ? 'Expired' : 'Expires'), ' ',
                 certLink(c), ' ', timeCell(c.not_after), ' ', badge(c.state),
                 c.alert ? h('span', {class: 'alert-word'}, ' — expires before its next renewal attempt') : null))),
             soon.length + flagged.length > rows.length
                 ? h('p', {class: 'muted'}, `${soon.length + flagged.length - rows.length} more`) : null);
}

function nextRenewals(status) {
    if (!status.next_renewals.length) return empty('No renewal is planned.');
    return h('ol', {class: 'next'}, status.next_renewals.map((r) => h('li', {}, certLink(r), ' ',
                                                                    timeCell(r.at))));
}

export async function show(el, ctx) {
    const render = async () => {
        const [status, list] = await Promise.all([get('/api/v1/status'), all('/api/v1/certificates')]);
        const now = Date.now();
        const issued = list.filter((c) => c.not_after && c.state !== 'revoked').map((c) => c.not_after);
        const t = timeline(issued, now);
        fill(el,
             h('h1', {}, 'Overview'),
             counts(status),
             section('Expiry timeline', t.chart, h('p', {id: 'timeline-summary'}, t.summary)),
             h('div', {class: 'columns'},
               section('Failures', failures(ctx, status)),
               section('Expiry alerts', alerts(list, now))),
             section('Next renewals', nextRenewals(status)));
    };
    await render();
    return {refresh: render};
}
