/** Base models: every registered model with its shape, format and fingerprint. */
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { TokenizerKind, WeightsFormat } from '../../gen/ptune/v1/registry_pb.js';
import { html, type Html } from '../html.js';
import { page, timeText } from '../layout.js';
import type { SignedIn } from '../signed-in.js';
import { byteText, listAll } from './page-data.js';

export async function modelsPage(user: SignedIn): Promise<Html> {
  const models = await listAll(
    (pageToken) => user.api.registry.listBaseModels({ pageSize: 1000, pageToken }),
    (r) => r.baseModels,
  );
  const rows = models.map((m) => {
    const a = m.architecture;
    return html`<tr>
      <td class="name">${m.name}</td>
      <td>${a?.family}</td>
      <td class="num">${a?.hiddenSize}</td>
      <td class="num">${a?.numLayers}</td>
      <td class="num">${a?.numAttentionHeads}/${a?.numKeyValueHeads}</td>
      <td class="num">${a?.vocabSize}</td>
      <td class="num">${a?.contextLength}</td>
      <td>${WeightsFormat[m.weightsFormat]?.toLowerCase()}</td>
      <td>${TokenizerKind[m.tokenizerKind]?.toLowerCase()}</td>
      <td class="num">${byteText(Number(m.weightsSizeBytes))}</td>
      <td><code title="${m.fingerprintSha256}">${m.fingerprintSha256.slice(0, 12)}</code></td>
      <td>${m.createdBy}</td>
      <td>${timeText(m.createdAt && timestampDate(m.createdAt))}</td>
    </tr>`;
  });
  return page(
    'Base models',
    user,
    models.length === 0
      ? html`<p>No base model is registered yet (<code>ptune models add</code>).</p>`
      : html`<table class="models">
          <thead>
            <tr>
              <th>name</th>
              <th>family</th>
              <th>hidden</th>
              <th>layers</th>
              <th>heads (q/kv)</th>
              <th>vocabulary</th>
              <th>context</th>
              <th>format</th>
              <th>tokenizer</th>
              <th>size</th>
              <th>fingerprint</th>
              <th>registered by</th>
              <th>at</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>`,
  );
}
