// The actions a token's scope allows, as buttons that call the API and say what happened. A
// button is only offered when the scope allows it; the API refuses it anyway otherwise.
import {ApiError, post} from './api.js';
import {h, names} from './dom.js';

// A button that runs `action` once at a time and reports its outcome through ctx.say.
export function actionButton(ctx, label, action, attrs = {}) {
    const button = h('button', {type: 'button', ...attrs}, label);
    button.addEventListener('click', async () => {
        button.disabled = true;
        const before = button.textContent;
        button.textContent = `${label}…`;
        try {
            const message = await action();
            if (message) ctx.say(message);
            await ctx.refresh();
        } catch (e) {
            ctx.say(`${label} failed: ${e instanceof ApiError ? e.message : e}`);
        } finally {
            button.disabled = false;
            button.textContent = before;
        }
    });
    return button;
}

// "Renew now" for a certificate (renew scope).
export function renewButton(ctx, cert) {
    if (!ctx.can.renew) return null;
    return actionButton(ctx, 'Renew now', async () => {
        const report = await post(`/api/v1/certificates/${cert.id}/renew`);
        const result = (report.results || [])[0];
        if (!result) return `Renewal of ${names(cert.names)} was not run.`;
        return `Renewal of ${names(cert.names)}: ${result.outcome}` +
               (result.problem ? ` (${result.problem})` : '');
    }, {dataset: {action: 'renew', certificate: cert.id}, class: 'action'});
}

// "Deploy now" for an agent (admin scope): its staged bundles are applied past the window.
export function deployNowButton(ctx, agent) {
    if (!ctx.can.admin) return null;
    return actionButton(ctx, 'Deploy now', async () => {
        await post(`/api/v1/agents/${encodeURIComponent(agent.name)}/deploy-now`);
        return `${agent.name} will apply its staged bundles at its next poll.`;
    }, {dataset: {action: 'deploy-now', agent: agent.name}, class: 'action'});
}

// A form with one labelled field per `fields` entry, submitting through `submit(values)`.
export function actionForm(ctx, {title, fields, label, submit, action}) {
    const message = h('p', {class: 'form-message', role: 'status'});
    const inputs = fields.map((f) => {
        const id = `field-${action}-${f.name}`;
        const input = f.options
            ? h('select', {id, name: f.name}, f.options.map((o) => h('option', {value: o}, o)))
            : h('input', {id, name: f.name, type: 'text', required: f.required, placeholder: f.placeholder,
                          autocomplete: 'off', spellcheck: 'false'});
        return {f, input, row: h('div', {class: 'field'}, h('label', {for: id}, f.label), input)};
    });
    const form = h('form', {class: 'action-form', dataset: {action}},
                   h('h3', {}, title), inputs.map((i) => i.row),
                   h('button', {type: 'submit', class: 'action'}, label), message);
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = Object.fromEntries(inputs.map((i) => [i.f.name, i.input.value.trim()]));
        message.textContent = 'Working…';
        message.classList.remove('error');
        try {
            message.textContent = await submit(values);
            form.reset();
            await ctx.refresh();
        } catch (e) {
            message.textContent = e instanceof ApiError ? e.message : String(e);
            message.classList.add('error');
        }
    });
    return form;
}

// "Revoke…": a dialog that names the certificate and asks for a reason before anything is sent.
export function revokeButton(ctx, cert) {
    if (!ctx.can.admin || cert.state === 'revoked') return null;
    const title = names(cert.names);
    const reason = h('select', {id: 'revoke-reason'},
                     ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation',
                      'affiliationChanged'].map((r) => h('option', {value: r}, r)));
    const message = h('p', {role: 'status'});
    const confirm = h('button', {type: 'submit', class: 'danger', dataset: {action: 'confirm-revoke'}},
                      `Revoke ${title}`);
    const cancel = h('button', {type: 'button', value: 'cancel'}, 'Cancel');
    const dialog = h('dialog', {class: 'confirm', 'aria-labelledby': 'revoke-title'},
                     h('form', {method: 'dialog'},
                       h('h2', {id: 'revoke-title'}, `Revoke ${title}?`),
                       h('p', {}, `Certificate ${cert.id} (${title}) is revoked at the CA and never ` +
                                  'renewed again. Servers that still present it will fail.'),
                       h('div', {class: 'field'}, h('label', {for: 'revoke-reason'}, 'Reason'), reason),
                       message, h('div', {class: 'buttons'}, cancel, confirm)));
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', async (event) => {
        event.preventDefault();
        confirm.disabled = true;
        message.textContent = 'Revoking…';
        try {
            const done = await post(`/api/v1/certificates/${cert.id}/revoke`, {reason: reason.value});
            dialog.close();
            ctx.say(`Revoked ${title} (serial ${done.serial}).`);
            await ctx.refresh();
        } catch (e) {
            message.textContent = e instanceof ApiError ? e.message : String(e);
        } finally {
            confirm.disabled = false;
        }
    });
    const open = h('button', {type: 'button', class: 'danger', dataset: {action: 'revoke'}}, 'Revoke…');
    open.addEventListener('click', () => dialog.showModal());
    return [open, dialog];
}
