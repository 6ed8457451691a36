// ptune console: the only script (the CSP allows script from this server's files only).
// On a job page it draws the trials' loss curves as SVG paths and keeps them growing from the
// job's server-sent events (/jobs/<id>/events, relaying WatchJob); trial states, progress and
// latest loss in the table follow the same events, and the table sorts by progress or latest loss
// (the header buttons; a second click reverses). Redraws are batched to one per animation frame, so a burst of
// events from a 100-trial sweep costs one redraw, not one per event.
'use strict';

(function () {
  const svg = document.getElementById('loss-curves');
  if (svg !== null) liveCurves(svg);
  for (const button of document.querySelectorAll('button.sort[data-sort]')) button.addEventListener('click', () => sortRows(button));

  // Rows of the button's table by the data-value of the column's cells (td.<data-sort>), in the
  // button's data-next direction (then the other way on the next click); empty values last.
  function sortRows(button) {
    const key = button.dataset.sort;
    const body = button.closest('table').tBodies[0];
    const descending = button.dataset.next === 'desc';
    button.dataset.next = descending ? 'asc' : 'desc';
    const value = (row) => {
      const text = row.querySelector('td.' + key)?.dataset.value ?? '';
      return text === '' ? NaN : Number(text);
    };
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);
      return descending ? y - x : x - y;
    });
    body.append(...rows);
  }

  function liveCurves(svg) {
    const SVG_NS = 'http://www.w3.org/2000/svg';
    const width = Number(svg.getAttribute('width'));
    const height = Number(svg.getAttribute('height'));
    const box = { left: 56, right: width - 12, top: 12, bottom: height - 30 };
    const axes = svg.querySelector('g.axes');
    const plot = svg.querySelector('g.plot');
    const status = document.getElementById('curves-status');
    const jobState = document.getElementById('job-state');
    const trials = new Map();
    let received = 0;
    let pending = false;

    for (const row of document.querySelectorAll('tr[data-trial]')) {
      const path = document.createElementNS(SVG_NS, 'path');
      path.setAttribute('class', 'curve');
      path.setAttribute('stroke', row.dataset.color);
      path.setAttribute('data-trial', row.dataset.trial);
      path.setAttribute('data-points', '0');
      plot.appendChild(path);
      trials.set(row.dataset.trial, { row: row, path: path, points: [] });
    }

    function text(x, y, content, anchor) {
      const t = document.createElementNS(SVG_NS, 'text');
      t.setAttribute('x', String(x));
      t.setAttribute('y', String(y));
      t.setAttribute('text-anchor', anchor);
      t.textContent = content;
      axes.appendChild(t);
    }

    function line(x1, y1, x2, y2) {
      const l = document.createElementNS(SVG_NS, 'line');
      l.setAttribute('class', 'axis');
      l.setAttribute('x1', String(x1));
      l.setAttribute('y1', String(y1));
      l.setAttribute('x2', String(x2));
      l.setAttribute('y2', String(y2));
      axes.appendChild(l);
    }

    function draw() {
      pending = false;
      let maxStep = 1;
      let low = Infinity;
      let high = -Infinity;
      for (const trial of trials.values()) {
        for (const [step, loss] of trial.points) {
          if (step > maxStep) maxStep = step;
          if (loss < low) low = loss;
          if (loss > high) high = loss;
        }
      }
      if (low === Infinity) return;
      if (high - low < 1e-9) {
        high += 0.5;
        low -= 0.5;
      }
      const x = (step) => box.left + ((box.right - box.left) * step) / maxStep;
      const y = (loss) => box.bottom - ((box.bottom - box.top) * (loss - low)) / (high - low);
      axes.replaceChildren();
      line(box.left, box.top, box.left, box.bottom);
      line(box.left, box.bottom, box.right, box.bottom);
      text(box.left - 6, box.top + 4, high.toPrecision(3), 'end');
      text(box.left - 6, box.bottom, low.toPrecision(3), 'end');
      text(box.left, box.bottom + 18, '0', 'middle');
      text(box.right, box.bottom + 18, 'step ' + maxStep, 'end');
      text(box.left - 6, (box.top + box.bottom) / 2, 'loss', 'end');
      for (const trial of trials.values()) {
        if (trial.points.length === 0) continue;
        let d = '';
        for (const [step, loss] of trial.points) d += (d === '' ? 'M' : 'L') + x(step).toFixed(1) + ' ' + y(loss).toFixed(1);
        trial.path.setAttribute('d', d);
        trial.path.setAttribute('data-points', String(trial.points.length));
      }
      svg.setAttribute('data-points', String(received));
    }

    function schedule() {
      if (!pending) {
        pending = true;
        requestAnimationFrame(draw);
      }
    }

    function cell(trial, selector) {
      return trial === undefined ? null : trial.row.querySelector(selector);
    }

    // the job's progress line follows the trials' live steps (same arithmetic as the server's)
    const jobProgress = document.getElementById('job-progress');
    function updateJobProgress() {
      if (jobProgress === null) return;
      let done = 0;
      let total = 0;
      for (const trial of trials.values()) {
        const steps = Number(trial.row.dataset.total);
        total += steps;
        done += Math.min(Number(cell(trial, 'td.progress')?.dataset.value ?? 0), steps);
      }
      if (total > 0) jobProgress.textContent = Math.floor((100 * done) / total) + '% (' + done + '/' + total + ' steps)';
    }

    const events = new EventSource(svg.dataset.events);
    events.addEventListener('step', (e) => {
      const data = JSON.parse(e.data);
      const trial = trials.get(data.trial);
      if (trial === undefined || !Number.isFinite(data.loss)) return;
      trial.points.push([data.step, data.loss]);
      received++;
      const progress = cell(trial, 'td.progress');
      if (progress !== null) {
        progress.textContent = data.step + '/' + trial.row.dataset.total;
        progress.dataset.value = String(data.step);
        updateJobProgress();
      }
      const loss = cell(trial, 'td.loss');
      if (loss !== null) {
        loss.textContent = data.loss.toPrecision(4);
        loss.dataset.value = String(data.loss);
      }
      schedule();
    });
    events.addEventListener('trial', (e) => {
      const data = JSON.parse(e.data);
      const state = cell(trials.get(data.trial), 'td.trial-state');
      if (state !== null) {
        state.textContent = data.state;
        state.className = 'trial-state state-' + data.state;
      }
    });
    events.addEventListener('job', (e) => {
      const data = JSON.parse(e.data);
      if (jobState !== null) {
        jobState.textContent = data.state;
        jobState.className = 'state-' + data.state;
      }
    });
    events.addEventListener('open', () => {
      if (status !== null) status.textContent = 'Live: the curves grow as the job reports steps.';
    });
    events.addEventListener('end', () => {
      events.close();
      if (status !== null) status.textContent = 'The job has finished; these are its complete curves.';
    });
    events.addEventListener('relay-error', () => {
      events.close();
      if (status !== null) status.textContent = 'The event stream broke; reload the page to resume.';
    });
  }
})();
