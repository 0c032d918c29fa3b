// The fleet's expiry dates as a chart (SVG): one bar per day for the next `days` days, its height
// the number of certificates that expire that day; certificates already expired stand in a bar
// of their own on the left. Bands mark the next 7 and 30 days. A sentence beside it says the same
// for screen readers and for anyone who does not read charts.

const ns = 'http://www.w3.org/2000/svg';
const dayMs = 86400000;

function svg(tag, attrs = {}, text) {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
}

// Counts per day from `now`: {expired, perDay[days], within7, within30}.
export function bucket(expiries, now, days) {
    const perDay = new Array(days).fill(0);
    let expired = 0;
    let within7 = 0;
    let within30 = 0;
    let later = 0;
    for (const iso of expiries) {
        const t = new Date(iso).getTime();
        const day = Math.floor((t - now) / dayMs);
        if (t <= now) expired++;
        else if (day < days) perDay[day]++;
        else later++;
        if (t > now && t - now <= 7 * dayMs) within7++;
        if (t > now && t - now <= 30 * dayMs) within30++;
    }
    return {expired, perDay, within7, within30, later};
}

export function timeline(expiries, now = Date.now(), days = 100) {
    const b = bucket(expiries, now, days);
    const width = 720;
    const height = 180;
    const left = 44;
    const bottom = 24;
    const plotW = width - left - 8;
    const plotH = height - bottom - 10;
    const lead = 8; // slots before today: the expired bar and a gap
    const slot = plotW / (days + lead);
    const max = Math.max(1, b.expired, ...b.perDay);
    const y = (n) => 10 + plotH - (n / max) * plotH;
    const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'timeline', role: 'img',
                              'aria-labelledby': 'timeline-summary'});
    chart.append(svg('rect', {x: left + lead * slot, y: 10, width: 7 * slot, height: plotH, class: 'band-7'}));
    chart.append(svg('rect', {x: left + (lead + 7) * slot, y: 10, width: 23 * slot, height: plotH, class: 'band-30'}));
    for (const tick of new Set([0, Math.round(max / 2), max])) {
        chart.append(svg('line', {x1: left, x2: width - 8, y1: y(tick), y2: y(tick), class: 'grid'}));
        chart.append(svg('text', {x: left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end'}, tick));
    }
    if (b.expired) {
        const bar = svg('rect', {x: left, y: y(b.expired), width: 4 * slot,
                                 height: y(0) - y(b.expired), class: 'bar expired'});
        bar.append(svg('title', {}, `${b.expired} expired`));
        chart.append(bar);
    }
    b.perDay.forEach((n, day) => {
        if (!n) return;
        const bar = svg('rect', {x: left + (day + lead) * slot, y: y(n), width: Math.max(slot - 1, 1),
                                 height: y(0) - y(n), class: day < 7 ? 'bar soon' : 'bar'});
        const date = new Date(now + day * dayMs).toLocaleDateString();
        bar.append(svg('title', {}, `${n} expire on ${date}`));
        chart.append(bar);
    });
    const labels = [[0, 'expired'], [lead, 'today'], [lead + 7, '7 d'], [lead + 30, '30 d'],
                    [lead + 60, '60 d'], [lead + 90, '90 d']];
    for (const [at, text] of labels) {
        if (at < days + lead) {
            chart.append(svg('text', {x: left + at * slot, y: height - 6, class: 'axis'}, text));
        }
    }
    const summary = `${b.expired} expired, ${b.within7} expire within 7 days, ${b.within30} within ` +
                    `30 days, ${b.later} later than ${days} days, of ${expiries.length} with a ` +
                    'certificate issued.';
    return {chart, summary, counts: b};
}
