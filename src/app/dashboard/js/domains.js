// Domains: each managed name with its CNAME target, the last delegation check, and the exact
// record to create at the customer's DNS provider (copyable); "add a domain" for admins.
import {all, post} from './api.js';
import {actionForm} from './actions.js';
import {badge, fill, h, timeCell} from './dom.js';

async function copy(text, button) {
    try {
        await navigator.clipboard.writeText(text);
        button.textContent = 'Copied';
    } catch {
        // No clipboard permission: select the text so that the user can copy it.
        const code = button.previousElementSibling;
        const range = document.createRange();
        range.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
}

function record(d) {
    const button = h('button', {type: 'button', class: 'copy', 'aria-label': `Copy the record for ${d.name}`}, 'Copy');
    button.addEventListener('click', () => copy(d.record, button));
    return h('div', {class: 'record'}, h('code', {}, d.record), button);
}

function row(d) {
    const ok = d.check === 'ok';
    return h('tr', {dataset: {domain: d.name}},
             h('td', {}, d.name), h('td', {}, h('code', {}, d.target)),
             h('td', {}, badge(d.check || 'unchecked'), d.check_detail ? h('div', {class: 'muted'}, d.check_detail) : null),
             h('td', {}, timeCell(d.checked_at)),
             h('td', {}, ok ? null : h('p', {class: 'todo'}, 'Create this record:'), record(d)));
}

export async function show(el, ctx) {
    let list = await all('/api/v1/domains');
    const search = h('input', {type: 'search', id: 'domain-search', autocomplete: 'off', spellcheck: 'false'});
    const count = h('p', {class: 'muted', role: 'status'});
    const body = h('tbody');
    const draw = () => {
        const word = search.value.trim().toLowerCase();
        const rows = list.filter((d) => d.name.includes(word));
        fill(body, rows.slice(0, 1000).map(row));
        count.textContent = `${rows.length} of ${list.length} domains.`;
    };
    search.addEventListener('input', draw);
    const add = ctx.can.admin ? actionForm(ctx, {
        title: 'Add a domain', action: 'add-domain', label: 'Add domain',
        fields: [{name: 'name', label: 'Domain name', required: true, placeholder: 'example.com'}],
        submit: async (v) => {
            const d = await post('/api/v1/domains', {name: v.name});
            return `Added ${d.name}. Create this record at its DNS provider: ${d.record}`;
        },
    }) : null;
    fill(el, h('h1', {}, 'Domains'),
         h('div', {class: 'filters'}, h('div', {class: 'field'}, h('label', {for: 'domain-search'}, 'Search'), search)),
         count,
         h('div', {class: 'scroll'}, h('table', {class: 'domains'},
           h('thead', {}, h('tr', {}, ['Name', 'CNAME target', 'Last check', 'Checked', 'Record'].map((t) => h('th', {}, t)))),
           body)),
         add);
    draw();
    return {refresh: async () => { list = await all('/api/v1/domains'); draw(); }};
}
