/**
 * Jobs (state, progress) and one job: its spec, results, trials, and loss curves that grow while it
 * runs. The page draws an empty chart; the console script fills it from `/jobs/<id>/events`
 * (server-sent events relaying WatchJob from the first event), so no reload is needed.
 */
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { FastifyRequest } from 'fastify';
import { trialLabel } from '../../client/index.js';
import { JobState, TrialState, type Job, type Trial } from '../../gen/ptune/v1/training_pb.js';
import { seriesColor } from '../../plot/index.js';
import { html, pathOf, type Html } from '../html.js';
import { page, timeText } from '../layout.js';
import { orNotFound, PageError, singleQuery, type SignedIn } from '../signed-in.js';
import { methodText, metricText } from './page-data.js';

export const JOBS_PER_PAGE = 50;

const stateName = (state: JobState | TrialState, names: typeof JobState | typeof TrialState): string =>
  (names[state] ?? 'unknown').toLowerCase();

function progress(trials: readonly Trial[]): string {
  const total = trials.reduce((sum, t) => sum + t.totalSteps, 0);
  const done = trials.reduce((sum, t) => sum + Math.min(t.step, t.totalSteps), 0);
  return total === 0 ? '—' : `${Math.floor((100 * done) / total)}% (${done}/${total} steps)`;
}

const jobTasks = (job: Job): string => (job.spec?.tasks ?? []).map((t) => `${t.task?.namespace}/${t.task?.name}`).join(', ');

export async function jobsPage(request: FastifyRequest, user: SignedIn): Promise<Html> {
  const query = singleQuery(request);
  const filter = query.state ?? '';
  const state = filter === '' ? JobState.UNSPECIFIED : JobState[filter.toUpperCase() as keyof typeof JobState];
  if (state === undefined || typeof state !== 'number')
    throw new PageError(400, 'Bad request', `state must be queued, running, succeeded, failed or cancelled, not ${JSON.stringify(filter)}`);
  const { jobs, nextPageToken } = await user.api.training.listJobs({ state, pageSize: JOBS_PER_PAGE, pageToken: query.page ?? '' });
  const states = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
  return page(
    'Jobs',
    user,
    html`<p class="filters">Show: <a href="/jobs">all</a> ${states.map((s) => html`· <a href="${`/jobs?state=${s}`}">${s}</a> `)}</p>
      ${
        jobs.length === 0
          ? html`<p>No jobs${filter === '' ? '' : ` ${filter}`}.</p>`
          : html`<table class="jobs">
              <thead>
                <tr>
                  <th>job</th>
                  <th>state</th>
                  <th>tasks</th>
                  <th class="num">trials</th>
                  <th>progress</th>
                  <th>created by</th>
                  <th>created at</th>
                </tr>
              </thead>
              <tbody>
                ${jobs.map(
                  (job) =>
                    html`<tr>
                      <td>
                        <a href="${pathOf('jobs', job.id)}"><code>${job.id}</code></a>
                      </td>
                      <td class="${`state-${stateName(job.state, JobState)}`}">${stateName(job.state, JobState)}</td>
                      <td>${jobTasks(job)}</td>
                      <td class="num">${job.trials.length}</td>
                      <td>${progress(job.trials)}</td>
                      <td>${job.createdBy}</td>
                      <td>${timeText(job.createdAt && timestampDate(job.createdAt))}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      ${nextPageToken === '' ? '' : html`<p class="pager"><a rel="next" href="${`/jobs?state=${encodeURIComponent(filter)}&page=${encodeURIComponent(nextPageToken)}`}">Next page</a></p>`}`,
  );
}

export async function jobPage(request: FastifyRequest<{ Params: { id: string } }>, user: SignedIn): Promise<Html> {
  const { id } = request.params;
  const { job } = await orNotFound(user.api.training.getJob({ jobId: id }), `Job ${id}`);
  const j = job!;
  const spec = j.spec;
  const state = stateName(j.state, JobState);
  return page(
    `Job ${j.id}`,
    user,
    html`<table class="kv job">
        <tbody>
          <tr>
            <td>state</td>
            <td id="job-state" class="${`state-${state}`}">${state}</td>
          </tr>
          <tr>
            <td>progress</td>
            <td id="job-progress">${progress(j.trials)}</td>
          </tr>
          <tr>
            <td>base model</td>
            <td>${spec?.baseModel}</td>
          </tr>
          <tr>
            <td>tasks</td>
            <td>${jobTasks(j)}</td>
          </tr>
          <tr>
            <td>method</td>
            <td>${spec?.method ? `${methodText(spec.method.method)}, ${spec.method.numVirtualTokens} virtual tokens` : ''}</td>
          </tr>
          <tr>
            <td>optimizer</td>
            <td>
              ${spec?.optimizer ? `lr ${spec.optimizer.learningRate}, ${spec.optimizer.steps} steps, batch ${spec.optimizer.batchSize}` : ''}
            </td>
          </tr>
          <tr>
            <td>created</td>
            <td>${j.createdBy}, ${timeText(j.createdAt && timestampDate(j.createdAt))}</td>
          </tr>
          <tr>
            <td>started / finished</td>
            <td>${timeText(j.startedAt && timestampDate(j.startedAt))} / ${timeText(j.finishedAt && timestampDate(j.finishedAt))}</td>
          </tr>
          ${
            j.error === ''
              ? ''
              : html`<tr>
                  <td>error</td>
                  <td class="error">${j.error}</td>
                </tr>`
          }
        </tbody>
      </table>
      ${
        j.results.length === 0
          ? ''
          : html`<h2>Results</h2>
              <ul>
                ${j.results.map(
                  (r) =>
                    html`<li>
                      ${r.task?.namespace}/${r.task?.name}:
                      <a href="${pathOf('tasks', r.task?.namespace ?? '', r.task?.name ?? '', 'versions', r.version)}">v${r.version}</a>
                      (selection metric ${metricText(r.selectionMetricValue)})
                    </li>`,
                )}
              </ul>`
      }
      <h2>Loss curves</h2>
      <svg
        id="loss-curves"
        class="curves"
        width="900"
        height="380"
        data-events="${pathOf('jobs', j.id, 'events')}"
        role="img"
        aria-label="training loss per trial"
      >
        <g class="axes"></g>
        <g class="plot"></g>
      </svg>
      <p class="hint" id="curves-status">Loading the job's events…</p>
      <h2>Trials</h2>
      <table class="trials">
        <thead>
          <tr>
            <th></th>
            <th>trial</th>
            <th>state</th>
            <th class="num">attempt</th>
            <th><button type="button" class="sort" data-sort="progress" data-next="desc">progress</button></th>
            <th class="num"><button type="button" class="sort" data-sort="loss" data-next="asc">latest loss</button></th>
            <th>metrics</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          ${j.trials.map((t, i) => trialRow(t, i))}
        </tbody>
      </table>`,
  );
}

function trialRow(t: Trial, index: number): Html {
  const color = seriesColor(index);
  const metrics = Object.entries(t.metrics).sort(([a], [b]) => a.localeCompare(b));
  return html`<tr data-trial="${t.id}" data-color="${color}" data-total="${t.totalSteps}">
    <td>
      <svg width="14" height="6" aria-hidden="true"><rect width="14" height="6" fill="${color}"></rect></svg>
    </td>
    <td><code title="${t.id}">${t.id.slice(0, 8)}</code> ${trialLabel(t)}</td>
    <td class="${`trial-state state-${stateName(t.state, TrialState)}`}">${stateName(t.state, TrialState)}</td>
    <td class="num">${t.attempt}</td>
    <td class="progress" data-value="${t.step}">${t.step}/${t.totalSteps}</td>
    <td class="num loss" data-value="">—</td>
    <td>${metrics.map(([k, v]) => html`<code>${k}=${metricText(v)}</code> `)}</td>
    <td>${t.error}</td>
  </tr>`;
}
