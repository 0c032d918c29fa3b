// Certificates: every certificate, searchable and sortable, with "add a certificate" for admins.
import {all, post} from './api.js';
import {actionForm} from './actions.js';
import {badge, fill, h, names, timeCell} from './dom.js';

const shown = 500; // rows drawn at once; the search narrows the rest
const columns = [
    {key: 'names', label: 'Names', value: (c) => names(c.names)},
    {key: 'ca', label: 'CA', value: (c) => c.ca},
    {key: 'profile', label: 'Profile', value: (c) => c.profile || ''},
    {key: 'key_type', label: 'Key', value: (c) => c.key_type},
    {key: 'not_after', label: 'Expires', value: (c) => c.not_after || ''},
    {key: 'state', label: 'State', value: (c) => c.state},
    {key: 'last', label: 'Last result', value: (c) => lastResult(c)},
];

function lastResult(c) {
    if (c.last_problem) return c.last_problem;
    if (c.state === 'valid') return 'issued';
    return c.state;
}

function row(c) {
    return h('tr', {dataset: {certificate: c.id, state: c.state}},
             h('td', {}, h('a', {href: `#/certificate/${c.id}`}, names(c.names))),
             h('td', {}, c.ca), h('td', {}, c.profile || '—'), h('td', {}, c.key_type),
             h('td', {}, timeCell(c.not_after)), h('td', {}, badge(c.state)),
             h('td', {class: c.last_problem ? 'problem' : ''}, lastResult(c)));
}

export async function show(el, ctx, stateFilter) {
    let list = await all('/api/v1/certificates');
    let sortKey = 'not_after';
    let ascending = true;
    const search = h('input', {type: 'search', id: 'cert-search', placeholder: 'name, CA, profile, key, state',
                               autocomplete: 'off', spellcheck: 'false'});
    const states = h('select', {id: 'cert-state'},
                     ['all', 'valid', 'pending', 'issuing', 'failed', 'revoked'].map((s) =>
                         h('option', {value: s, selected: s === (stateFilter || 'all')}, s)));
    const count = h('p', {class: 'muted', role: 'status', id: 'cert-count'});
    const head = h('tr');
    const body = h('tbody');

    const draw = () => {
        const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
        const wanted = states.value;
        const column = columns.find((c) => c.key === sortKey);
        const rows = list.filter((c) => (wanted === 'all' || c.state === wanted) &&
                                        words.every((w) => columns.some((k) => k.value(c).toLowerCase().includes(w))))
                         .sort((a, b) => column.value(a).localeCompare(column.value(b)) * (ascending ? 1 : -1));
        fill(body, rows.slice(0, shown).map(row));
        count.textContent = rows.length > shown
            ? `Showing ${shown} of ${rows.length} matching (${list.length} in all): narrow the search to see the others.`
            : `${rows.length} of ${list.length} certificates.`;
        fill(head, columns.map((k) => h('th', {'aria-sort': k.key === sortKey ? (ascending ? 'ascending' : 'descending') : 'none'},
            h('button', {type: 'button', class: 'sort', onclick: () => {
                ascending = k.key === sortKey ? !ascending : true;
                sortKey = k.key;
                draw();
            }}, k.label, k.key === sortKey ? (ascending ? ' ▲' : ' ▼') : ''))));
    };
    search.addEventListener('input', draw);
    states.addEventListener('change', draw);

    const add = ctx.can.admin ? actionForm(ctx, {
        title: 'Add a certificate', action: 'add-certificate', label: 'Add certificate',
        fields: [
            {name: 'names', label: 'Names (space or comma separated)', required: true,
             placeholder: 'www.example.com example.com'},
            {name: 'key_type', label: 'Key type', options: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']},
        ],
        submit: async (v) => {
            const made = await post('/api/v1/certificates',
                                    {names: v.names.split(/[\s,]+/).filter(Boolean), key_type: v.key_type});
            return `Added certificate ${made.id} for ${names(made.names)}: it is being issued.`;
        },
    }) : null;

    fill(el, h('h1', {}, 'Certificates'),
         h('div', {class: 'filters'},
           h('div', {class: 'field'}, h('label', {for: 'cert-search'}, 'Search'), search),
           h('div', {class: 'field'}, h('label', {for: 'cert-state'}, 'State'), states)),
         count,
         h('div', {class: 'scroll'}, h('table', {class: 'certificates'}, h('thead', {}, head), body)),
         add);
    draw();
    return {
        refresh: async () => {
            list = await all('/api/v1/certificates');
            draw();
        },
    };
}
