// Building the page: elements from data, never HTML from strings (no innerHTML), so text that
// came from a CA, an agent or a user is always shown as text.

// h('a', {href: '#/x', class: 'y'}, 'text', child, [more]): an element. Attributes starting with
// "on" are event listeners; null/undefined/false attributes and children are left out.
export function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
        if (value === null || value === undefined || value === false) continue;
        if (key.startsWith('on') && typeof value === 'function') {
            el.addEventListener(key.slice(2), value);
        } else if (key === 'dataset') {
            Object.assign(el.dataset, value);
        } else if (value === true) {
            el.setAttribute(key, '');
        } else {
            el.setAttribute(key, String(value));
        }
    }
    append(el, children);
    return el;
}

function append(el, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        if (Array.isArray(child)) append(el, child);
        else el.append(child instanceof Node ? child : String(child));
    }
}

// Replaces an element's content.
export function fill(el, ...children) {
    el.replaceChildren();
    append(el, children);
    return el;
}

const absolute = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});
const zoned = new Map(); // IANA zone → its formatter (making one is slow: hundreds per page)
const rtf = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'});

function zoneFormat(zone) {
    if (!zoned.has(zone)) {
        // dateStyle cannot be combined with timeZoneName: the parts are named instead.
        zoned.set(zone, new Intl.DateTimeFormat(undefined, {
            year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
            timeZone: zone, timeZoneName: 'short',
        }));
    }
    return zoned.get(zone);
}

// "12 Dec 2026, 14:05" in the viewer's zone, or in `zone` with its name; "—" for none.
export function when(iso, zone) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    if (!zone) return absolute.format(d);
    try {
        return zoneFormat(zone).format(d);
    } catch {
        return `${absolute.format(d)} (unknown zone ${zone})`;
    }
}

// "in 3 days", "5 minutes ago".
export function relative(iso, now = Date.now()) {
    if (!iso) return '';
    const seconds = (new Date(iso).getTime() - now) / 1000;
    const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
    for (const [unit, size] of units) {
        if (Math.abs(seconds) >= size || unit === 'second') {
            return rtf.format(Math.round(seconds / size), unit);
        }
    }
    return '';
}

// A time as an element: the absolute time, the relative one beside it.
export function timeCell(iso, zone) {
    if (!iso) return h('span', {class: 'muted'}, '—');
    return h('time', {datetime: iso, title: iso}, when(iso, zone), ' ',
             h('span', {class: 'muted'}, `(${relative(iso)})`));
}

// A state as a word with a colour and a symbol: readable without the colour.
const stateSymbols = {
    valid: '✓', pending: '…', issuing: '↻', failed: '✗', revoked: '⊘',
    deployed: '✓', staged: '…', refused: '✗', ok: '✓', missing: '✗', points_elsewhere: '✗',
    enabled: '✓', disabled: '⊘', unchecked: '?',
};
export function badge(state) {
    const word = state || 'unknown';
    return h('span', {class: `badge state-${word.replace(/[^a-z_]/g, '')}`},
             h('span', {'aria-hidden': 'true'}, stateSymbols[word] || '•'), ' ', word);
}

export function names(list) {
    return (list || []).join(', ');
}

// A heading plus a section body.
export function section(title, ...children) {
    return h('section', {class: 'card'}, h('h2', {}, title), ...children);
}

export function empty(text) {
    return h('p', {class: 'muted'}, text);
}
