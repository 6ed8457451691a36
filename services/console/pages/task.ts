/**
 * A task's versions: method, virtual tokens, init, base model, metrics, hyperparameters, created
 * by/at and lineage, one page at a time, ordered by version, creation time or a metric. Sorting and
 * paging happen in the database (ListPromptVersions' order_by and keyset cursor), so the first page
 * of a task with 10,000 versions costs one indexed query, not 10,000 rows.
 */
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { FastifyRequest } from 'fastify';
import { PromptVersionOrderBy, type PromptVersion } from '../../gen/ptune/v1/registry_pb.js';
import { html, pathOf, type Html } from '../html.js';
import { page, timeText } from '../layout.js';
import { orNotFound, PageError, singleQuery, type SignedIn } from '../signed-in.js';
import { initText, methodText, metricText } from './page-data.js';

export const VERSIONS_PER_PAGE = 50;

export interface TaskParams {
  namespace: string;
  task: string;
}

/** The order a versions page asks for: `sort` = version | created | metric:<name>, `dir` = asc | desc. */
interface Order {
  readonly sort: string;
  readonly descending: boolean;
}

function readOrder(query: Record<string, string | undefined>): Order {
  const sort = query.sort ?? 'version';
  if (sort !== 'version' && sort !== 'created' && !sort.startsWith('metric:'))
    throw new PageError(400, 'Bad request', `sort must be version, created or metric:<name>, not ${JSON.stringify(sort)}`);
  const dir = query.dir ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw new PageError(400, 'Bad request', `dir must be asc or desc, not ${JSON.stringify(dir)}`);
  return { sort, descending: dir === 'desc' };
}

function orderRequest(order: Order): { orderBy: PromptVersionOrderBy; orderMetric: string; descending: boolean } {
  if (order.sort === 'created') return { orderBy: PromptVersionOrderBy.CREATED_AT, orderMetric: '', descending: order.descending };
  if (order.sort.startsWith('metric:'))
    return { orderBy: PromptVersionOrderBy.METRIC, orderMetric: order.sort.slice('metric:'.length), descending: order.descending };
  return { orderBy: PromptVersionOrderBy.VERSION, orderMetric: '', descending: order.descending };
}

export async function taskPage(request: FastifyRequest<{ Params: TaskParams }>, user: SignedIn): Promise<Html> {
  const { namespace, task: name } = request.params;
  const query = singleQuery(request);
  const order = readOrder(query);
  const ref = { namespace, name };
  const { task } = await orNotFound(user.api.registry.getTask({ task: ref }), `Task ${namespace}/${name}`);
  const { versions, nextPageToken } = await user.api.registry.listPromptVersions({
    task: ref,
    ...orderRequest(order),
    pageSize: VERSIONS_PER_PAGE,
    pageToken: query.page ?? '',
  });
  const base = pathOf('tasks', namespace, name);
  const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  if (order.sort.startsWith('metric:') && !metricNames.includes(order.sort.slice(7))) metricNames.push(order.sort.slice(7));
  const sortLink = (sort: string, label: string): Html => {
    const current = order.sort === sort;
    const dir = current && order.descending ? 'asc' : current ? 'desc' : sort === 'version' || sort === 'created' ? 'desc' : 'asc';
    const arrow = current ? (order.descending ? ' ▼' : ' ▲') : '';
    return html`<a class="sort" href="${`${base}?sort=${encodeURIComponent(sort)}&dir=${dir}`}">${label}${arrow}</a>`;
  };
  const aliases = Object.entries(task!.aliases).sort(([a], [b]) => a.localeCompare(b));
  const rows = versions.map((v) => versionRow(v, metricNames));
  const firstPage = (query.page ?? '') === '';
  return page(
    `Task ${namespace}/${name}`,
    user,
    html`<p>${task!.description}</p>
      <p>
        Aliases:
        ${aliases.length === 0 ? 'none' : aliases.map(([alias, v]) => html`<span class="alias">${alias} → <a href="${pathOf('tasks', namespace, name, 'versions', v)}">v${v}</a></span> `)}
        · ${task!.latestVersion} version${task!.latestVersion === 1 ? '' : 's'} allocated
      </p>
      <form class="compare" method="get" action="${`${base}/compare`}">
        Compare versions <input name="a" type="number" min="1" size="5" required /> and
        <input name="b" type="number" min="1" size="5" required /> <button type="submit">Compare</button>
      </form>
      <h2>Versions</h2>
      ${
        versions.length === 0
          ? html`<p>No versions${firstPage ? ' yet' : ' on this page'}.</p>`
          : html`<table class="versions">
              <thead>
                <tr>
                  <th>${sortLink('version', 'version')}</th>
                  <th>aliases</th>
                  <th>method</th>
                  <th class="num">virtual tokens</th>
                  <th>init</th>
                  <th>base model</th>
                  ${metricNames.map((m) => html`<th class="num">${sortLink(`metric:${m}`, m)}</th>`)}
                  <th>hyperparameters</th>
                  <th>created by</th>
                  <th>${sortLink('created', 'created at')}</th>
                  <th>lineage</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }
      <p class="pager">
        ${firstPage ? '' : html`<a href="${`${base}?sort=${encodeURIComponent(order.sort)}&dir=${order.descending ? 'desc' : 'asc'}`}">First page</a>`}
        ${nextPageToken === '' ? '' : html`<a rel="next" href="${`${base}?sort=${encodeURIComponent(order.sort)}&dir=${order.descending ? 'desc' : 'asc'}&page=${encodeURIComponent(nextPageToken)}`}">Next page</a>`}
      </p>`,
  );
}

function versionRow(v: PromptVersion, metricNames: readonly string[]): Html {
  const ns = v.task?.namespace ?? '';
  const name = v.task?.name ?? '';
  const hyper = Object.entries(v.hyperparameters).sort(([a], [b]) => a.localeCompare(b));
  return html`<tr data-version="${v.version}">
    <td class="num"><a href="${pathOf('tasks', ns, name, 'versions', v.version)}">v${v.version}</a></td>
    <td>${v.aliases.map((a) => html`<span class="alias">${a}</span>`)}</td>
    <td>${methodText(v.method)}</td>
    <td class="num">${v.numVirtualTokens}</td>
    <td>${initText(v.init)}</td>
    <td>${v.baseModel?.name}</td>
    ${metricNames.map((m) => html`<td class="num">${metricText(v.metrics[m])}</td>`)}
    <td>${hyper.map(([k, value]) => html`<code>${k}=${value}</code> `)}</td>
    <td>${v.createdBy}</td>
    <td>${timeText(v.createdAt && timestampDate(v.createdAt))}</td>
    <td>
      ${v.lineage?.jobId ? html`<a href="${pathOf('jobs', v.lineage.jobId)}">job</a> · trial <code>${v.lineage.trialId.slice(0, 8)}</code>` : 'pushed'}
    </td>
  </tr>`;
}
