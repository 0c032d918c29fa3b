// The REST API as the page uses it: every request carries the API token as a Bearer token. The
// token lives in this tab's session storage only (gone when the tab closes; never a cookie,
// never local storage).

const key = 'certfleet.token';

export class ApiError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

export const token = {
    get: () => sessionStorage.getItem(key),
    set: (value) => sessionStorage.setItem(key, value),
    clear: () => sessionStorage.removeItem(key),
};

// One request; the parsed JSON answer, or an ApiError with the server's code and message.
export async function call(method, path, body, secret = token.get()) {
    const headers = {Accept: 'application/json'};
    if (secret) headers.Authorization = `Bearer ${secret}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
        response = await fetch(path, {
            method, headers, body: body === undefined ? undefined : JSON.stringify(body),
            cache: 'no-store', credentials: 'omit', redirect: 'error',
        });
    } catch (e) {
        throw new ApiError(0, 'unreachable', `The server did not answer (${e.message}). ` +
                           'Check that certfleet serve is running, then reload.');
    }
    const text = await response.text();
    let data = null;
    try {
        data = text ? JSON.parse(text) : null;
    } catch {
        data = null;
    }
    if (!response.ok) {
        const error = data && data.error ? data.error : {};
        throw new ApiError(response.status, error.code || `http_${response.status}`,
                           error.message || `the server answered ${response.status}`);
    }
    return data;
}

export const get = (path, secret) => call('GET', path, undefined, secret);
export const post = (path, body = {}) => call('POST', path, body);

// Every item of a paged collection ({items, next_cursor}), 1,000 a request.
export async function all(path) {
    const items = [];
    let cursor = null;
    const sep = path.includes('?') ? '&' : '?';
    do {
        const page = await get(`${path}${sep}limit=1000` +
                               (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
        items.push(...page.items);
        cursor = page.next_cursor;
    } while (cursor);
    return items;
}

// What the token's scope allows the page to offer.
export function abilities(scope) {
    return {
        renew: scope === 'renew' || scope === 'admin',
        admin: scope === 'admin',
    };
}
