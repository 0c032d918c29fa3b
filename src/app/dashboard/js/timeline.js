// The fleet's expiry dates as a chart (SVG): about 100 bars from today to the last expiry (at
// least 100 days), each the number of certificates that expire in its span of days; those
// already expired stand in a bar of their own on the left. Bands mark the next 7 and 30 days. A
// sentence beside it says the same for screen readers and anyone who does not read charts.

const ns = 'http://www.w3.org/2000/svg';
const dayMs = 86400000;

function svg(tag, attrs = {}, text) {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
}

// Counts from `now`: expired, per bucket of `bucketDays` over `buckets`, within 7 and 30 days.
export function bucket(expiries, now, bucketDays, buckets) {
    const perBucket = new Array(buckets).fill(0);
    let expired = 0;
    let within7 = 0;
    let within30 = 0;
    for (const iso of expiries) {
        const t = new Date(iso).getTime();
        if (t <= now) {
            expired++;
            continue;
        }
        perBucket[Math.min(buckets - 1, Math.floor((t - now) / dayMs / bucketDays))]++;
        if (t - now <= 7 * dayMs) within7++;
        if (t - now <= 30 * dayMs) within30++;
    }
    return {expired, perBucket, within7, within30};
}

export function timeline(expiries, now = Date.now()) {
    const last = Math.max(now, ...expiries.map((iso) => new Date(iso).getTime()));
    const days = Math.max(100, Math.ceil((last - now) / dayMs) + 1);
    const bucketDays = Math.ceil(days / 100);
    const buckets = Math.ceil(days / bucketDays);
    const b = bucket(expiries, now, bucketDays, buckets);
    const width = 720;
    const height = 180;
    const left = 44;
    const bottom = 24;
    const lead = 64; // room before today: the expired bar and its label
    const plotW = width - left - lead - 8;
    const plotH = height - bottom - 10;
    const dayW = plotW / (buckets * bucketDays);
    const x = (day) => left + lead + day * dayW;
    const max = Math.max(1, b.expired, ...b.perBucket);
    const y = (n) => 10 + plotH - (n / max) * plotH;
    const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'timeline', role: 'img',
                              'aria-labelledby': 'timeline-summary'});
    chart.append(svg('rect', {x: x(0), y: 10, width: 7 * dayW, height: plotH, class: 'band-7'}));
    chart.append(svg('rect', {x: x(7), y: 10, width: 23 * dayW, height: plotH, class: 'band-30'}));
    for (const tick of new Set([0, Math.round(max / 2), max])) {
        chart.append(svg('line', {x1: left, x2: width - 8, y1: y(tick), y2: y(tick), class: 'grid'}));
        chart.append(svg('text', {x: left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end'}, tick));
    }
    const bar = (x0, w, n, cls, title) => {
        const r = svg('rect', {x: x0, y: y(n), width: Math.max(w, 1), height: y(0) - y(n), class: cls});
        r.append(svg('title', {}, title));
        chart.append(r);
    };
    if (b.expired) bar(left + 8, lead - 24, b.expired, 'bar expired', `${b.expired} expired`);
    b.perBucket.forEach((n, i) => {
        if (!n) return;
        const from = new Date(now + i * bucketDays * dayMs).toLocaleDateString();
        const span = bucketDays === 1 ? `on ${from}` : `in the ${bucketDays} days from ${from}`;
        bar(x(i * bucketDays), bucketDays * dayW - 1, n, i * bucketDays < 7 ? 'bar soon' : 'bar', `${n} expire ${span}`);
    });
    chart.append(svg('text', {x: left + 2, y: height - 6, class: 'axis'}, 'expired'));
    const total = buckets * bucketDays;
    const near = total <= 300 ? [30] : []; // "30 d" only while it stands apart from "today"
    const marks = new Set([0, ...near, Math.round(total / 2), Math.round(total * 0.75), total]);
    for (const day of marks) {
        const label = day === 0 ? 'today' : day >= 730 ? `${(day / 365).toFixed(1)} y` : `${day} d`;
        chart.append(svg('text', {x: x(day), y: height - 6, class: 'axis',
                                  'text-anchor': day === total ? 'end' : 'start'}, label));
    }
    const summary = `${b.expired} expired, ${b.within7} expire within 7 days, ${b.within30} within 30 ` +
                    `days, the last in ${Math.ceil((last - now) / dayMs)} days; ${expiries.length} ` +
                    'certificates issued and not revoked.';
    return {chart, summary, counts: b};
}
