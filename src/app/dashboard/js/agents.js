// Agents: last contact, deployment window with its next opening (in the agent's own time zone
// and the viewer's), and per target the deployed and staged versions, the last result and drift.
import {get} from './api.js';
import {deployNowButton} from './actions.js';
import {badge, empty, fill, h, timeCell} from './dom.js';

const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

// The time zone of an agent's first window: "Sun 02:00-04:00 Europe/Berlin" → "Europe/Berlin".
export function agentZone(windows) {
    const first = (windows || '').split(';')[0].trim();
    return first ? first.split(/\s+/).pop() : null;
}

function assignment(a) {
    const behind = a.pending || (a.newest_version && a.deployed_version !== a.newest_version);
    return h('li', {dataset: {assignment: a.id}},
             h('a', {href: `#/certificate/${a.certificate}`}, `certificate ${a.certificate}`), ` → ${a.target}: `,
             `deployed ${a.deployed_version ?? 'none'}, staged ${a.staged_version ?? 'none'}, newest ${a.newest_version ?? 'none'}`,
             behind ? h('span', {class: 'todo'}, ' (behind)') : null, ' ',
             a.last_status ? badge(a.last_status) : h('span', {class: 'muted'}, 'no result yet'), ' ',
             a.last_result_at ? timeCell(a.last_result_at) : null,
             a.drift ? h('div', {class: 'problem'}, `Drift: the probe saw ${a.drift}`) : null);
}

function next(agent) {
    if (!agent.next_window) return h('span', {class: 'muted'}, agent.windows ? 'no opening ahead' : 'no window: applies at once');
    const zone = agentZone(agent.windows);
    return h('div', {},
             h('div', {}, 'Agent: ', timeCell(agent.next_window.start, zone)),
             zone !== viewerZone ? h('div', {}, 'You: ', timeCell(agent.next_window.start, viewerZone)) : null);
}

function row(ctx, agent) {
    const staged = agent.assignments.some((a) => a.staged_version && a.staged_version !== a.deployed_version);
    return h('tr', {id: `agent-${agent.name}`, dataset: {agent: agent.name}},
             h('td', {}, h('strong', {}, agent.name), h('div', {}, badge(agent.enabled ? 'enabled' : 'disabled')),
               agent.version ? h('div', {class: 'muted'}, `version ${agent.version}`) : null),
             h('td', {}, timeCell(agent.last_seen_at), agent.last_address ? h('div', {class: 'muted'}, agent.last_address) : null),
             h('td', {}, agent.windows || h('span', {class: 'muted'}, 'none')),
             h('td', {}, next(agent)),
             h('td', {}, agent.assignments.length ? h('ul', {class: 'assignments'}, agent.assignments.map(assignment))
                                                  : empty('nothing assigned')),
             h('td', {}, staged ? deployNowButton(ctx, agent) : null));
}

export async function show(el, ctx, only) {
    const render = async () => {
        const agents = (await get('/api/v1/agents')).items.filter((a) => !only || a.name === only);
        const drifting = agents.filter((a) => a.assignments.some((s) => s.drift)).length;
        fill(el, h('h1', {}, only ? `Agent ${only}` : 'Agents'),
             only ? h('p', {}, h('a', {href: '#/agents'}, '← All agents')) : null,
             h('p', {class: 'muted'}, `${agents.length} agents, ${drifting} with drift. Times in your zone: ${viewerZone}.`),
             agents.length ? h('div', {class: 'scroll'}, h('table', {class: 'agents'},
                 h('thead', {}, h('tr', {}, ['Agent', 'Last contact', 'Window', 'Next opening', 'Targets', ''].map((t) => h('th', {}, t)))),
                 h('tbody', {}, agents.map((a) => row(ctx, a))))) : empty('No agent has enrolled.'));
    };
    await render();
    return {refresh: render};
}
