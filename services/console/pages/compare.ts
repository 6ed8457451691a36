/** Two versions of a task side by side: settings, metrics (with the difference), hyperparameters (differences marked), per-token similarity. */
import type { FastifyRequest } from 'fastify';
import type { PromptVersion } from '../../gen/ptune/v1/registry_pb.js';
import { readSafetensors, tensorToFloat32 } from '../../engine/formats/safetensors.js';
import { html, pathOf, type Html } from '../html.js';
import { page } from '../layout.js';
import { singleQuery, type SignedIn } from '../signed-in.js';
import { initText, methodText, metricText } from './page-data.js';
import type { TaskParams } from './task.js';
import { loadVersion, versionNumber } from './version.js';

export async function comparePage(request: FastifyRequest<{ Params: TaskParams }>, user: SignedIn): Promise<Html> {
  const { namespace, task: name } = request.params;
  const query = singleQuery(request);
  const a = await loadVersion(user, namespace, name, versionNumber(query.a ?? '', 'a'));
  const b = await loadVersion(user, namespace, name, versionNumber(query.b ?? '', 'b'));
  const va = a.version;
  const vb = b.version;
  const link = (v: PromptVersion): Html => html`<a href="${pathOf('tasks', namespace, name, 'versions', v.version)}">v${v.version}</a>`;
  const row = (label: string, x: string, y: string): Html =>
    html`<tr class="${x === y ? '' : 'diff'}">
      <td>${label}</td>
      <td>${x}</td>
      <td>${y}</td>
    </tr>`;
  const metricNames = [...new Set([...Object.keys(va.metrics), ...Object.keys(vb.metrics)])].sort();
  const hyperNames = [...new Set([...Object.keys(va.hyperparameters), ...Object.keys(vb.hyperparameters)])].sort();
  return page(
    `${namespace}/${name}: v${va.version} and v${vb.version}`,
    user,
    html`<table class="compare-settings">
        <thead>
          <tr>
            <th></th>
            <th>${link(va)}</th>
            <th>${link(vb)}</th>
          </tr>
        </thead>
        <tbody>
          ${row('method', methodText(va.method), methodText(vb.method))}
          ${row('virtual tokens', String(va.numVirtualTokens), String(vb.numVirtualTokens))}
          ${row('init', initText(va.init), initText(vb.init))} ${row('base model', va.baseModel?.name ?? '', vb.baseModel?.name ?? '')}
          ${row('created by', va.createdBy, vb.createdBy)}
        </tbody>
      </table>
      <h2>Metrics</h2>
      <table class="compare-metrics">
        <thead>
          <tr>
            <th>metric</th>
            <th>v${va.version}</th>
            <th>v${vb.version}</th>
            <th class="num">v${vb.version} − v${va.version}</th>
          </tr>
        </thead>
        <tbody>
          ${metricNames.map((m) => {
            const x = va.metrics[m];
            const y = vb.metrics[m];
            return html`<tr>
              <td>${m}</td>
              <td class="num">${metricText(x)}</td>
              <td class="num">${metricText(y)}</td>
              <td class="num">${x === undefined || y === undefined ? '' : metricText(y - x)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      <h2>Hyperparameters</h2>
      <table class="compare-hyperparameters">
        <thead>
          <tr>
            <th>name</th>
            <th>v${va.version}</th>
            <th>v${vb.version}</th>
          </tr>
        </thead>
        <tbody>
          ${hyperNames.map((h) => row(h, va.hyperparameters[h] ?? '—', vb.hyperparameters[h] ?? '—'))}
        </tbody>
      </table>
      <h2>Per-token similarity</h2>
      ${tokenSimilarity(va, a.safetensors, vb, b.safetensors)}`,
  );
}

/** Cosine similarity of virtual token i of one version with virtual token i of the other. */
function tokenSimilarity(va: PromptVersion, a: Uint8Array, vb: PromptVersion, b: Uint8Array): Html {
  const ta = readSafetensors(a, { source: `v${va.version}` }).tensors.prompt_embeddings;
  const tb = readSafetensors(b, { source: `v${vb.version}` }).tensors.prompt_embeddings;
  const width = ta?.shape[1];
  if (ta === undefined || tb === undefined || width === undefined || tb.shape[1] !== width)
    return html`<p class="hint">
      The two prompts' rows have different widths (${ta?.shape.join(' × ')} and ${tb?.shape.join(' × ')}): no per-token comparison.
    </p>`;
  const x = tensorToFloat32(ta);
  const y = tensorToFloat32(tb);
  const count = Math.min(ta.shape[0]!, tb.shape[0]!);
  const cosines = Array.from({ length: count }, (_, i) =>
    cosine(x.subarray(i * width, (i + 1) * width), y.subarray(i * width, (i + 1) * width)),
  );
  return html`${ta.shape[0] === tb.shape[0] ? '' : html`<p class="hint">The versions have ${ta.shape[0]} and ${tb.shape[0]} virtual tokens; the first ${count} are compared.</p>`}
    <table class="similarity">
      <thead>
        <tr>
          <th>virtual token</th>
          <th class="num">cosine similarity</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${cosines.map(
          (c, i) =>
            html`<tr>
              <td class="num">${i}</td>
              <td class="num">${c.toFixed(4)}</td>
              <td>
                <svg class="sim" width="200" height="10" aria-hidden="true">
                  <rect width="${Math.round(Math.max(0, c) * 200)}" height="10"></rect>
                </svg>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
