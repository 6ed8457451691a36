/**
 * One version: its metadata, its PEFT export, the task's aliases with their history and the form
 * that moves one here (the API's compare-and-swap: the form carries the version the alias pointed
 * at when the page was drawn), and what its virtual tokens are close to in the vocabulary.
 */
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Dtype } from '../../gen/ptune/v1/common_pb.js';
import type { AliasChange, PromptVersion, Task } from '../../gen/ptune/v1/registry_pb.js';
import { downloadPrompt } from '../../client/index.js';
import { RpcError } from '../../grpc/index.js';
import { html, pathOf, type Html } from '../html.js';
import { page, timeText, whoText } from '../layout.js';
import { checkForm, orNotFound, PageError, type SignedIn } from '../signed-in.js';
import { covers } from '../user-api.js';
import { byteText, initText, methodText, metricText } from './page-data.js';
import type { TaskParams } from './task.js';

export interface VersionParams extends TaskParams {
  version: string;
}

/** What the version page shows besides the registry's data: its nearest-token reading, supplied by the module. */
export type PromptReading = (user: SignedIn, version: PromptVersion, safetensors: Uint8Array) => Promise<Html>;

interface Notice {
  readonly kind: 'notice' | 'error';
  readonly text: string;
}

export function versionNumber(text: string, field = 'version'): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 0xffffffff)
    throw new PageError(400, 'Bad request', `${field} must be a version number (1, 2, …), not ${JSON.stringify(text)}`);
  return Number(text);
}

/** A version as the API gives it to this user (metadata and tensor), or the 404 page naming it. */
export async function loadVersion(user: SignedIn, namespace: string, name: string, version: number) {
  const ref = { namespace, name };
  const { task } = await orNotFound(user.api.registry.getTask({ task: ref }), `Task ${namespace}/${name}`);
  const prompt = await orNotFound(
    downloadPrompt(user.api.registry, {
      prompt: { task: ref, selector: { case: 'version', value: version } },
      dtype: Dtype.F32,
      ifNoneMatch: '',
    }),
    `Version ${version} of ${namespace}/${name} (deleted, or never created)`,
  );
  return { task: task!, version: prompt.header.version!, safetensors: new Uint8Array(prompt.bytes) };
}

/** GET …/versions/:version (`?moved=<alias>` after a successful move); `notice` when a move was refused. */
export async function versionPage(
  params: VersionParams,
  moved: string | undefined,
  user: SignedIn,
  reading: PromptReading,
  notice?: Notice,
): Promise<Html> {
  const { namespace, task: name } = params;
  const number = versionNumber(params.version);
  const { task, version, safetensors } = await loadVersion(user, namespace, name, number);
  // the notice after a move, only when it is true (the query string is anybody's to write)
  const shown =
    notice ??
    (moved !== undefined && task.aliases[moved] === number
      ? { kind: 'notice', text: `Alias ${moved} now points at v${number}.` }
      : undefined);
  const histories = await Promise.all(
    Object.keys(task.aliases)
      .sort()
      .map(async (alias) => ({
        alias,
        changes: (await user.api.registry.getAliasHistory({ task: { namespace, name }, alias, pageSize: 20 })).changes,
      })),
  );
  return page(
    `${namespace}/${name} v${number}`,
    user,
    html`${shown && html`<p class="${shown.kind}" role="status">${shown.text}</p>`}
      <p><a href="${pathOf('tasks', namespace, name)}">All versions of ${namespace}/${name}</a></p>
      ${metadataTable(version)}
      <h2>PEFT export</h2>
      <p>
        Download both files into one folder and load it with <code>PeftModel.from_pretrained</code>:
        <a download href="${pathOf('tasks', namespace, name, 'versions', number, 'peft', 'adapter_config.json')}">adapter_config.json</a> ·
        <a download href="${pathOf('tasks', namespace, name, 'versions', number, 'peft', 'adapter_model.safetensors')}"
          >adapter_model.safetensors</a
        >
      </p>
      ${aliasSection(user, task, number, histories)}
      <h2>What the prompt says</h2>
      ${await reading(user, version, safetensors)}`,
  );
}

function metadataTable(v: PromptVersion): Html {
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  const hyper = Object.entries(v.hyperparameters).sort(([a], [b]) => a.localeCompare(b));
  return html`<table class="kv metadata">
    <tbody>
      <tr>
        <td>method</td>
        <td>${methodText(v.method)}</td>
      </tr>
      <tr>
        <td>virtual tokens</td>
        <td>${v.numVirtualTokens} × ${v.tokenDim} (stored shape ${v.shape.join(' × ')}, ${Dtype[v.dtype]?.toLowerCase()})</td>
      </tr>
      <tr>
        <td>init</td>
        <td>${initText(v.init)}</td>
      </tr>
      <tr>
        <td>base model</td>
        <td>${v.baseModel?.name} <code>${v.baseModel?.fingerprintSha256.slice(0, 12)}</code></td>
      </tr>
      <tr>
        <td>metrics</td>
        <td>${metrics.length === 0 ? '—' : metrics.map(([k, value]) => html`<code>${k}=${metricText(value)}</code> `)}</td>
      </tr>
      <tr>
        <td>hyperparameters</td>
        <td>${hyper.length === 0 ? '—' : hyper.map(([k, value]) => html`<code>${k}=${value}</code> `)}</td>
      </tr>
      <tr>
        <td>created</td>
        <td>${v.createdBy}, ${timeText(v.createdAt && timestampDate(v.createdAt))}</td>
      </tr>
      <tr>
        <td>lineage</td>
        <td>
          ${v.lineage?.jobId ? html`<a href="${pathOf('jobs', v.lineage.jobId)}">job ${v.lineage.jobId}</a>, trial <code>${v.lineage.trialId}</code>` : 'pushed directly (no job)'}
        </td>
      </tr>
      <tr>
        <td>payload</td>
        <td>${byteText(Number(v.sizeBytes))}, sha256 <code>${v.blobSha256}</code></td>
      </tr>
    </tbody>
  </table>`;
}

function aliasSection(user: SignedIn, task: Task, number: number, histories: { alias: string; changes: AliasChange[] }[]): Html {
  const ns = task.ref?.namespace ?? '';
  const name = task.ref?.name ?? '';
  const action = pathOf('tasks', ns, name, 'aliases');
  const form = (alias: string | undefined, expected: number): Html =>
    html`<form class="move-alias" method="post" action="${action}">
      <input type="hidden" name="csrf" value="${user.csrf}" /><input type="hidden" name="version" value="${number}" />
      <input type="hidden" name="expected" value="${expected}" />
      ${alias === undefined ? html`<input name="alias" placeholder="new alias" size="14" required />` : html`<input type="hidden" name="alias" value="${alias}" />`}
      <input name="reason" placeholder="reason (kept in the audit log)" size="28" />
      <button type="submit">${alias === undefined ? `Create alias at v${number}` : `Move ${alias} to v${number}`}</button>
    </form>`;
  const rows = histories.map(({ alias, changes }) => {
    const current = task.aliases[alias] ?? 0;
    return html`<h3>${alias} → v${current}</h3>
      ${current === number ? html`<p>Points here.</p>` : form(alias, current)}
      <table class="history">
        <thead>
          <tr>
            <th>from</th>
            <th>to</th>
            <th>by</th>
            <th>at</th>
            <th>reason</th>
          </tr>
        </thead>
        <tbody>
          ${changes.map(
            (c) =>
              html`<tr>
                <td>${c.fromVersion === 0 ? 'created' : `v${c.fromVersion}`}</td>
                <td>${c.toVersion === 0 ? 'deleted' : `v${c.toVersion}`}</td>
                <td>${c.changedBy}</td>
                <td>${timeText(c.changedAt && timestampDate(c.changedAt))}</td>
                <td>${c.reason}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
  });
  return html`<h2>Aliases</h2>
    ${user.caller.role === 'admin' || user.caller.role === 'trainer' ? '' : html`<p class="hint">Moving an alias needs a trainer or admin token of ${ns}; you are signed in with ${whoText(user.caller)}.</p>`}
    ${rows} ${form(undefined, 0)}`;
}

/** POST …/aliases: SetAlias with the form's expected version (compare-and-swap), then back to the version page. */
export async function moveAlias(
  request: FastifyRequest<{ Params: TaskParams }>,
  reply: FastifyReply,
  user: SignedIn,
  reading: PromptReading,
): Promise<Html | undefined> {
  const { namespace, task: name } = request.params;
  const form = checkForm(request, user);
  const alias = typeof form.alias === 'string' ? form.alias.trim() : '';
  const version = versionNumber(String(form.version ?? ''));
  const expectedText = String(form.expected ?? '');
  const expected = expectedText === '0' ? 0 : versionNumber(expectedText, 'expected');
  const reason = typeof form.reason === 'string' ? form.reason : '';
  try {
    await user.api.registry.setAlias({ task: { namespace, name }, alias, version, expectedVersion: expected, reason });
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    if (err.code === status.PERMISSION_DENIED && covers(user.caller, namespace))
      throw new PageError(
        403,
        'Refused',
        `Your token (${whoText(user.caller)}) may not move aliases of ${namespace}: that takes a trainer or admin token.`,
      );
    if (err.code === status.ABORTED) {
      const { task } = await orNotFound(user.api.registry.getTask({ task: { namespace, name } }), `Task ${namespace}/${name}`);
      const now = task!.aliases[alias];
      // who got there first: the newest entry of the alias's history
      const { changes } = await user.api.registry.getAliasHistory({ task: { namespace, name }, alias, pageSize: 1 });
      const by = changes[0]?.changedBy || 'someone';
      const text =
        now === undefined
          ? `${by} changed ${alias} first: it no longer exists. Nothing was changed; look at the state below and try again.`
          : `${by} moved ${alias} first: it now points at v${now}. Nothing was changed; look at the state below and try again.`;
      reply.code(409);
      return versionPage({ namespace, task: name, version: String(version) }, undefined, user, reading, { kind: 'error', text });
    }
    if (err.code === status.PERMISSION_DENIED || err.code === status.NOT_FOUND)
      throw new PageError(404, 'Not found', `Version ${version} of ${namespace}/${name} was not found, or your token does not cover it.`);
    throw err;
  }
  void reply.redirect(`${pathOf('tasks', namespace, name, 'versions', version)}?moved=${encodeURIComponent(alias)}`, 303);
  return undefined;
}

const PEFT_FILES = {
  'adapter_config.json': { type: 'application/json', field: 'adapterConfigJson' },
  'adapter_model.safetensors': { type: 'application/octet-stream', field: 'adapterModelSafetensors' },
} as const;

/** GET …/versions/:version/peft/<file>: one file of the version's PEFT adapter (ExportPeft), as a download. */
export async function peftFile(
  request: FastifyRequest<{ Params: VersionParams & { file: string } }>,
  reply: FastifyReply,
  user: SignedIn,
): Promise<undefined> {
  const { namespace, task: name, file } = request.params;
  const number = versionNumber(request.params.version);
  const kind = Object.hasOwn(PEFT_FILES, file) ? PEFT_FILES[file as keyof typeof PEFT_FILES] : undefined;
  if (kind === undefined)
    throw new PageError(404, 'Not found', `A PEFT adapter has adapter_config.json and adapter_model.safetensors, not ${file}.`);
  const exported = await orNotFound(
    user.api.registry.exportPeft({ prompt: { task: { namespace, name }, selector: { case: 'version', value: number } } }),
    `Version ${number} of ${namespace}/${name} (deleted, or never created)`,
  );
  void reply
    .header('content-disposition', `attachment; filename="${name}-v${number}-${file}"`)
    .type(kind.type)
    .send(Buffer.from(exported[kind.field]));
  return undefined;
}
