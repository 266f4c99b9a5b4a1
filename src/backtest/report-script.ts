/**
 * The report's chart script (plain ES2017, runs in the browser after uPlot's): reads the JSON
 * block #report-data and draws every chart with uPlot. Each chart's wrapper gets
 * data-rendered="yes" once uPlot drew it with data, and <body data-charts-rendered="n"> counts
 * them (the e2e test reads both). No template literal inside: this file is one.
 */
export const CHART_SCRIPT = String.raw`(function () {
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var W = Math.min(1100, document.body.clientWidth - 8), H = 300, drawn = 0;
  var hedged = D.policies.filter(function (p) { return p.kind === 'keeper'; });
  function fmt(v) { return v == null ? '-' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : (Math.round(v * 100) / 100).toString(); }
  function section(id, title, text) {
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-rendered', 'no');
    var h = document.createElement('h3'); h.textContent = title; box.appendChild(h);
    if (text) { var p = document.createElement('p'); p.textContent = text; box.appendChild(p); }
    document.getElementById(id).appendChild(box);
    return box;
  }
  function mark(box) {
    return function (u) {
      if (box.getAttribute('data-rendered') === 'yes') return;
      var any = u.data.slice(1).some(function (s) { return s.some(function (v) { return v != null; }); });
      if (!any) return;
      box.setAttribute('data-rendered', 'yes');
      document.body.setAttribute('data-charts-rendered', String(++drawn));
    };
  }
  function refLines(lines) {
    return function (u) {
      var ctx = u.ctx; ctx.save(); ctx.setLineDash([6, 4]); ctx.strokeStyle = '#888'; ctx.fillStyle = '#555'; ctx.font = '11px sans-serif';
      lines.forEach(function (l, i) {
        var y = u.valToPos(l.y, 'y', true);
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        // Labels side by side: the lines are close together.
        ctx.fillText(l.label, u.bbox.left + u.bbox.width - 130 * (lines.length - i), y - 4);
      });
      ctx.restore();
    };
  }
  function chart(where, title, text, xs, series, o) {
    o = o || {};
    var box = section(where, title, text);
    var opts = {
      width: W, height: H, scales: { x: { time: o.time !== false }, y: o.logY ? { distr: 3 } : {} },
      series: [{ label: o.xLabel || 'time', value: o.time === false ? function (u, v) { return fmt(v); } : undefined }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, width: s.width || 2, fill: s.fill, points: s.points || { show: false }, paths: s.paths, value: function (u, v) { return fmt(v); } };
      })),
      axes: [{ label: o.time === false ? o.xLabel : undefined }, { label: o.yLabel, size: 70, values: function (u, vs) { return vs.map(fmt); } }],
      hooks: { draw: [mark(box)].concat(o.draw ? [o.draw] : []) },
    };
    new uPlot(opts, [xs].concat(series.map(function (s) { return s.data; })), box);
  }
  function lines(ps, key) { return ps.map(function (p) { return { label: p.name, color: p.color, data: p[key] }; }); }

  // Top: cost against risk, one point per policy (lower left is better).
  var byCost = D.policies.slice().sort(function (a, b) { return a.costUsd - b.costUsd; });
  var xs = byCost.map(function (p) { return p.costUsd; });
  chart('charts-top', 'Cost against risk', 'One point per policy: hedging cost (x) and the std of the per-close P&L (y). Lower left is better.',
    xs, byCost.map(function (p, i) {
      return { label: p.name, color: p.color, points: { show: true, size: 12, fill: p.color }, paths: function () { return null; },
        data: xs.map(function (_, k) { return k === i ? p.perCloseStdUsd : null; }) };
    }), { time: false, xLabel: 'hedging cost, USD', yLabel: 'std, USD per close' });

  if (D.policies.some(function (p) { return p.episodePnlUsd; })) {
    var all = [].concat.apply([], D.policies.map(function (p) { return p.episodePnlUsd || []; }));
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all), bins = 24, w = (hi - lo) / bins || 1;
    var edges = []; for (var b = 0; b <= bins; b++) edges.push(lo + b * w);
    chart('charts-episodes', 'Distribution of the episode P&L', 'Number of episodes per P&L bin, one outline per policy.', edges, D.policies.filter(function (p) { return p.episodePnlUsd; }).map(function (p) {
      var counts = edges.map(function () { return 0; });
      p.episodePnlUsd.forEach(function (v) { counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++; });
      return { label: p.name, color: p.color, data: counts, paths: uPlot.paths.stepped({ align: 1 }) };
    }), { time: false, xLabel: 'episode P&L, USD', yLabel: 'episodes' });
  }

  chart('charts-time', 'Price', 'The data (log scale).', D.market.timeSec, [{ label: 'price', color: '#333', width: 1.5, data: D.market.priceUsd }], { logY: true, yLabel: 'USD' });
  chart('charts-time', 'Cumulative P&L', 'Sum of the per-close changes of the portfolio value (within episodes), baselines in grey.', D.timeSec, lines(D.policies, 'cumPnlUsd'), { yLabel: 'USD' });
  chart('charts-time', 'Drawdown', 'Fall of the cumulative P&L below its running peak (worst of each point\'s interval).', D.timeSec, lines(D.policies, 'drawdownUsd'), { yLabel: 'USD' });
  chart('charts-time', 'Net delta left after the keeper acted', 'Root mean square of the net delta (spot + hedge) in USD over each point\'s interval, log scale; hedged policies only (the baselines carry the whole LP delta).', D.timeSec,
    hedged.map(function (p) { return { label: p.name, color: p.color, width: 1.5, data: p.netDeltaRmsUsd.map(function (v) { return v > 1 ? v : null; }) }; }), { yLabel: 'USD (log)', logY: true });
  chart('charts-time', 'Perp margin ratio', 'Lowest of each interval, shown up to 2.0; dashed: top-up target and trigger, liquidation.', D.timeSec, lines(D.policies.filter(function (p) { return p.kind !== 'unhedged'; }), 'marginRatio'), {
    yLabel: 'account value / notional',
    draw: refLines([{ y: D.refLines.marginTarget, label: 'top-up target' }, { y: D.refLines.marginTrigger, label: 'top-up trigger' }, { y: D.refLines.maintenance, label: 'liquidation' }]),
  });
  chart('charts-time', 'Cumulative hedging cost', 'Fees, slippage, transaction costs, funding and penalties.', D.timeSec, lines(D.policies.filter(function (p) { return p.kind !== 'unhedged'; }), 'cumCostUsd'), { yLabel: 'USD' });
})();`;
