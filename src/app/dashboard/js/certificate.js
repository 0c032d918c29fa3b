// One certificate: its state and actions, versions, orders, events, the delegation and CAA
// preflight of each name, and the agents' targets it is deployed to.
import {ApiError, get, post} from './api.js';
import {renewButton, revokeButton} from './actions.js';
import {badge, empty, fill, h, names, section, timeCell} from './dom.js';

// The managed domain a name is checked under: a wildcard's base name.
const managed = (name) => name.replace(/^\*\./, '');

function table(headers, rows) {
    return h('div', {class: 'scroll'}, h('table', {},
             h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))),
             h('tbody', {}, rows)));
}

function facts(c) {
    const item = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
    return h('dl', {class: 'facts'},
             item('State', badge(c.state)),
             item('Expires', timeCell(c.not_after)),
             item('Next attempt', timeCell(c.next_attempt_at)),
             item('CA', c.ca), item('Profile', c.profile || '—'), item('Key type', c.key_type),
             item('Serial', h('code', {}, c.serial || '—')),
             item('Consecutive failures', String(c.failures)),
             c.last_problem ? item('Last problem', h('span', {class: 'problem'}, c.last_problem)) : null,
             c.alert ? item('Alert', 'expires before its next renewal attempt') : null);
}

function versions(list) {
    if (!list.length) return empty('Not issued yet.');
    return table(['Serial', 'Issued', 'Valid from', 'Expires', 'ARI window'],
                 [...list].reverse().map((v) => h('tr', {}, h('td', {}, h('code', {}, v.serial)),
                     h('td', {}, timeCell(v.issued_at)), h('td', {}, timeCell(v.not_before)),
                     h('td', {}, timeCell(v.not_after)),
                     h('td', {}, v.ari_window_start ? [timeCell(v.ari_window_start), ' – ', timeCell(v.ari_window_end)] : '—'))));
}

function orders(list) {
    if (!list.length) return empty('No order was placed.');
    return table(['Order', 'State', 'Attempts', 'Created', 'Updated', 'Problem'],
                 [...list].reverse().map((o) => h('tr', {}, h('td', {}, String(o.id)), h('td', {}, badge(o.state)),
                     h('td', {}, String(o.attempts)), h('td', {}, timeCell(o.created_at)),
                     h('td', {}, timeCell(o.updated_at)),
                     h('td', {class: 'problem'}, o.last_problem || '—'))));
}

function events(list) {
    if (!list.length) return empty('No event yet.');
    return h('ol', {class: 'events'}, [...list].reverse().map((e) =>
        h('li', {}, timeCell(e.at), ' ', h('strong', {}, e.kind), ': ', e.message)));
}

async function domainRows(c) {
    const domains = [...new Set(c.names.map(managed))];
    return Promise.all(domains.map(async (name) => {
        try {
            return await get(`/api/v1/domains/${encodeURIComponent(name)}`);
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) return {name, missing: true};
            throw e;
        }
    }));
}

function preflight(ctx, c, domains) {
    const result = h('div', {role: 'status', class: 'preflight-now'});
    const rows = domains.map((d) => h('tr', {},
        h('td', {}, d.name),
        d.missing ? h('td', {colspan: 3}, 'not a managed domain')
                  : [h('td', {}, h('code', {}, d.record)), h('td', {}, badge(d.check || 'unchecked'),
                       d.check_detail ? h('div', {class: 'muted'}, d.check_detail) : null),
                     h('td', {}, timeCell(d.checked_at))]));
    const check = ctx.can.renew ? h('button', {type: 'button', class: 'action', dataset: {action: 'check'},
        onclick: async () => {
            fill(result, 'Checking the delegation and CAA records…');
            try {
                const report = await post('/api/v1/domain-checks', {names: c.names});
                fill(result, table(['Name', 'Check', 'Result', 'Detail'], report.results.map((r) =>
                    h('tr', {}, h('td', {}, r.name), h('td', {}, r.check), h('td', {}, badge(r.ok ? 'ok' : r.status)),
                      h('td', {}, r.detail)))));
            } catch (e) {
                fill(result, h('p', {class: 'error'}, `The check failed: ${e.message}`));
            }
        }}, 'Check now') : null;
    return [table(['Domain', 'Record to create', 'Last check', 'Checked'], rows), check, result];
}

// The agents' targets this certificate is assigned to.
function deployed(agents, id) {
    const list = agents.flatMap((agent) => agent.assignments.filter((a) => String(a.certificate) === String(id))
                                                   .map((a) => ({...a, agent_name: agent.name})));
    if (!list.length) return empty('Not deployed to any agent.');
    return table(['Agent', 'Target', 'Deployed', 'Staged', 'Newest', 'Last result', 'Drift'],
                 list.map((a) => h('tr', {}, h('td', {}, a.agent_name ? h('a', {href: `#/agents/${encodeURIComponent(a.agent_name)}`}, a.agent_name) : `agent ${a.agent_id}`),
                     h('td', {}, a.target), h('td', {}, a.deployed_version ?? '—'), h('td', {}, a.staged_version ?? '—'),
                     h('td', {}, a.newest_version ?? '—'),
                     h('td', {}, a.last_status ? badge(a.last_status) : '—', ' ', timeCell(a.last_result_at)),
                     h('td', {}, a.drift ? h('span', {class: 'problem'}, `drift: ${a.drift}`) : 'none'))));
}

export async function show(el, ctx, id) {
    const render = async () => {
        if (el.querySelector('dialog[open]')) return; // not under the user's confirmation
        const [c, orderList, agents] = await Promise.all([
            get(`/api/v1/certificates/${encodeURIComponent(id)}`),
            get(`/api/v1/certificates/${encodeURIComponent(id)}/orders`),
            get('/api/v1/agents'),
        ]);
        const domains = await domainRows(c);
        fill(el,
             h('p', {}, h('a', {href: '#/certificates'}, '← All certificates')),
             h('h1', {}, names(c.names)),
             h('div', {class: 'buttons'}, renewButton(ctx, c), revokeButton(ctx, c)),
             facts(c),
             section('Preflight per name', preflight(ctx, c, domains)),
             section('Deployed to', deployed(agents.items, c.id)),
             section('Versions', versions(c.versions)),
             section('Orders', orders(orderList.items)),
             section('Events', events(c.events)));
    };
    await render();
    return {refresh: render};
}
