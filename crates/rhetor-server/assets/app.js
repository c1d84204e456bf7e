// rhetor web app: analyze, show spans, archive with charts, outlets side by side. The span view itself (stacked bars,
// legend, tooltip, span table) is the `rhetor` crate's spanview.js, loaded before this script as
// /assets/spanview.js: the same code draws the page of `rhetor analyze --format html`.
//
// Safety: article text and everything else from the API is untrusted. It only ever reaches the
// page through textContent and attribute setters, never innerHTML; the server's CSP also forbids
// inline scripts.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const { el, techOf } = window.RhetorSpans;
  const state = { analysis: null, archivePage: 1 };
  const view = window.RhetorSpans.mount({
    doc: $("doc"), legend: $("legend"), tip: $("tip"), table: $("r-spans"), hint: $("r-hint"),
    voices: $("r-voices"),
  });

  async function api(path, opts) {
    const r = await fetch(path, opts);
    let body = null;
    if (r.status !== 204) {
      try { body = await r.json(); } catch (_) { body = null; }
    }
    if (!r.ok) {
      const reason = body && body.reason ? body.reason : "HTTP " + r.status;
      const err = new Error(reason);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  const techReady = api("/api/techniques").then((list) => {
    window.RhetorSpans.setTechniques(list);
    for (const id of ["f-technique", "o-technique"]) {
      const sel = $(id);
      for (const t of list) sel.append(el("option", { value: t.name, text: t.name }));
    }
  });

  function pct(x) {
    return (100 * (Number(x) || 0)).toFixed(1) + "%";
  }

  function showResult(analysis, article) {
    state.analysis = analysis;
    article = article || {};
    const firstLine = (analysis.text || "").split(/\r?\n/).map((l) => l.trim()).find((l) => l) || "Untitled";
    $("r-title").textContent = article.title || firstLine;
    const meta = [article.source, article.byline, article.published].filter(Boolean);
    const m = $("r-meta");
    m.textContent = meta.join(" · ");
    if (article.url && /^https?:\/\//i.test(article.url)) {
      if (meta.length) m.append(" · ");
      m.append(el("a", { href: article.url, rel: "noopener noreferrer nofollow", target: "_blank", text: "original" }));
    }
    const density = article.density !== undefined && article.density !== null ? article.density : densityOf(analysis);
    $("r-density").textContent = pct(density);
    $("r-meter").value = density;
    const nSpans = (analysis.spans || []).length;
    const nTech = Object.keys(analysis.counts || {}).length;
    $("r-counts").textContent = nSpans + (nSpans === 1 ? " span" : " spans") + " of " + nTech +
      (nTech === 1 ? " technique" : " techniques") + " in " + (analysis.length || 0) + " characters";
    const link = $("r-permalink");
    if (article.id) {
      link.hidden = false;
      link.href = "/a/" + article.id;
      link.textContent = "Permalink /a/" + article.id;
    } else link.hidden = true;
    $("r-delete").hidden = !(article.id && location.pathname.startsWith("/a/"));
    $("r-delete").dataset.id = article.id || "";
    $("r-model").textContent = "Model: " + (analysis.model || "?");
    // Shown before drawing: the view measures its labels.
    $("view-result").hidden = false;
    view.show(analysis);
  }

  function densityOf(a) {
    const v = (a.spans || []).map((s) => [s.start, s.end]).sort((x, y) => x[0] - y[0]);
    let covered = 0, reach = 0;
    for (const [s0, e] of v) { const s = Math.max(s0, reach); if (e > s) { covered += e - s; reach = e; } }
    return a.length ? covered / a.length : 0;
  }

  // ---- analyze ---------------------------------------------------------------------------------

  $("analyze-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("input").value;
    const status = $("status");
    if (!input.trim()) { status.textContent = "Paste an article or a link first."; $("input").focus(); return; }
    const body = { save: $("save").checked };
    const src = $("source").value.trim();
    if (src) body.source = src;
    if (/^\s*https?:\/\/\S+\s*$/i.test(input)) body.url = input.trim(); else body.text = input;
    const btn = $("analyze-btn");
    btn.disabled = true;
    status.textContent = body.url ? "Fetching and analysing…" : "Analysing…";
    try {
      await techReady;
      const res = await api("/api/analyze", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const article = res.article || {};
      status.textContent = article.saved ? "Saved to the archive." : "Done (not saved).";
      showResult(res, article);
      $("r-title").scrollIntoView({ block: "start" });
    } catch (err) {
      status.textContent = "Could not analyse: " + err.message;
      status.classList.add("error");
      setTimeout(() => status.classList.remove("error"), 4000);
    } finally {
      btn.disabled = false;
    }
  });

  $("r-delete").addEventListener("click", async () => {
    const id = $("r-delete").dataset.id;
    if (!id || !window.confirm("Delete this article from the archive?")) return;
    try {
      await api("/api/articles/" + encodeURIComponent(id), { method: "DELETE" });
      go("/archive");
    } catch (err) { $("r-counts").textContent = "Could not delete: " + err.message; }
  });

  // ---- archive ---------------------------------------------------------------------------------

  // Horizontal bars; `max` (default: the largest value) lets two charts share one scale.
  function hbars(box, rows, fmt, max) {
    box.textContent = "";
    max = max || Math.max(1, ...rows.map((r) => r.value));
    for (const r of rows) {
      const bar = el("span", { class: "fill" + (r.cls ? " " + r.cls : "") });
      bar.style.width = (100 * r.value / max).toFixed(1) + "%";
      box.append(el("div", { class: "hb", title: r.title || "" },
        el("span", { class: "hb-l", text: r.label }), el("span", { class: "hb-b" }, bar),
        el("span", { class: "hb-v", text: fmt(r) })));
    }
    if (!rows.length) box.append(el("p", { class: "meta", text: "Nothing saved yet." }));
  }

  async function loadArchive() {
    await techReady;
    const stats = await api("/api/stats");
    $("a-summary").textContent = stats.articles + " articles, " + stats.spans + " spans, mean density " + pct(stats.mean_density);
    hbars($("chart-tech"), stats.techniques.filter((t) => t.spans > 0).sort((a, b) => b.spans - a.spans).map((t) => ({
      label: t.technique, value: t.spans, cls: "t" + techOf(t.technique).index + " tc",
      title: t.articles + " articles", articles: t.articles,
    })), (r) => String(r.value));
    hbars($("chart-source"), stats.sources.slice(0, 15).map((s) => ({
      label: s.source || "(no outlet)", value: s.articles, density: s.mean_density,
    })), (r) => r.value + " · " + pct(r.density));
    const cols = $("chart-time");
    cols.textContent = "";
    const days = stats.over_time.slice(-60);
    const maxA = Math.max(1, ...days.map((d) => d.articles));
    for (const d of days) {
      const c = el("span", { class: "col-a" });
      c.style.height = (100 * d.articles / maxA).toFixed(1) + "%";
      const dd = el("span", { class: "col-d" });
      dd.style.height = (100 * Math.min(1, d.mean_density)).toFixed(1) + "%";
      cols.append(el("div", { class: "col", title: d.day + ": " + d.articles + " articles, mean density " + pct(d.mean_density) }, c, dd,
        el("span", { class: "col-l", text: d.day.slice(5) })));
    }
    if (!days.length) cols.append(el("p", { class: "meta", text: "Nothing saved yet." }));
    const sel = $("f-source");
    const keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    for (const s of stats.sources) if (s.source) sel.append(el("option", { value: s.source, text: s.source }));
    sel.value = keep;
    await loadArticles();
  }

  async function loadArticles() {
    const p = new URLSearchParams();
    if ($("f-source").value) p.set("source", $("f-source").value);
    if ($("f-technique").value) p.set("technique", $("f-technique").value);
    if ($("f-q").value.trim()) p.set("q", $("f-q").value.trim());
    p.set("page", String(state.archivePage));
    const page = await api("/api/articles?" + p.toString());
    const list = $("articles");
    list.textContent = "";
    for (const a of page.articles) {
      const top = Object.entries(a.counts || {}).sort((x, y) => y[1] - x[1]).slice(0, 3);
      list.append(el("li", null,
        el("a", { href: "/a/" + a.id, "data-nav": "", text: a.title || "Article " + a.id }),
        el("div", { class: "meta", text: [a.source || "(no outlet)", a.published || a.created_at.slice(0, 10),
          a.span_count + " spans", "density " + pct(a.density)].join(" · ") }),
        el("div", { class: "chips" }, ...top.map(([n, c]) => el("span", { class: "chip t" + techOf(n).index },
          el("span", { class: "sw", "aria-hidden": "true" }), n + " " + c)))));
    }
    const pages = Math.max(1, Math.ceil(page.total / page.per_page));
    $("a-count").textContent = page.total + (page.total === 1 ? " article" : " articles");
    $("page").textContent = "page " + page.page + " of " + pages;
    $("prev").disabled = page.page <= 1;
    $("next").disabled = page.page >= pages;
  }

  $("filters").addEventListener("submit", (e) => { e.preventDefault(); state.archivePage = 1; loadArticles().catch(fail); });
  $("prev").addEventListener("click", () => { state.archivePage--; loadArticles().catch(fail); });
  $("next").addEventListener("click", () => { state.archivePage++; loadArticles().catch(fail); });

  function fail(err) { $("a-count").textContent = "Could not load: " + err.message; }

  // ---- outlets ---------------------------------------------------------------------------------
  // One outlet, or two side by side, from /api/outlets/report or /compare. Charts are SVG built
  // with createElementNS (class "chart"); every label is textContent. Two outlets share each
  // chart's scale, so their bars compare by length.

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const k of kids) e.append(k);
    return e;
  }
  function svgTitle(text) {
    const t = svg("title");
    t.textContent = text;
    return t;
  }
  const TABLES = {
    summary: "Summary", techniques: "Technique profile", weeks: "Articles per week",
    trends: "Trends per week", voices: "Voices", speakers: "Top quoted speakers",
  };
  const VOICES = { author: "The outlet's own voice", quoted: "Quoted voices", unattributed: "Unattributed" };
  const rate = (x) => (Number(x) || 0).toFixed(1);
  const plural = (n, one, many) => n.toLocaleString("en") + " " + (n === 1 ? one : many);
  let outletsSeq = 0;

  function outletParams() {
    const q = new URLSearchParams(location.search);
    const p = {};
    for (const k of ["a", "b", "from", "to", "technique"]) p[k] = (q.get(k) || "").trim();
    return p;
  }

  function outletQuery(p, names) {
    const q = new URLSearchParams();
    if (names.length > 1) { q.set("a", names[0]); q.set("b", names[1]); } else q.set("outlet", names[0]);
    for (const k of ["from", "to", "technique"]) if (p[k]) q.set(k, p[k]);
    return q;
  }

  function csvLink(p, names, table, label) {
    const q = outletQuery(p, names);
    q.set("table", table);
    const path = names.length > 1 ? "/api/outlets/compare.csv?" : "/api/outlets/report.csv?";
    return el("a", {
      class: "csv-link", href: path + q.toString(), download: "", text: label || "CSV",
      "aria-label": TABLES[table] + " of " + names.join(" and ") + " as CSV",
    });
  }

  function fillSelect(sel, names, value, none) {
    sel.textContent = "";
    if (none) sel.append(el("option", { value: "", text: none }));
    const all = value && !names.includes(value) ? [value, ...names] : names;
    for (const n of all) sel.append(el("option", { value: n, text: n }));
    sel.value = value;
  }

  async function loadOutlets() {
    const seq = ++outletsSeq;
    await techReady;
    const stats = await api("/api/stats");
    if (seq !== outletsSeq) return;
    const names = stats.sources.map((s) => s.source).filter(Boolean);
    const p = outletParams();
    if (!p.a && names.length) p.a = names[0];
    if (p.b === p.a) p.b = "";
    fillSelect($("o-a"), names, p.a, null);
    fillSelect($("o-b"), names.filter((n) => n !== p.a), p.b, "none");
    $("o-from").value = p.from;
    $("o-to").value = p.to;
    $("o-technique").value = p.technique;
    const cols = $("o-cols");
    const status = $("o-status");
    if (!p.a) {
      cols.textContent = "";
      $("o-csv").hidden = true;
      status.textContent = "Nothing saved with an outlet yet: name the outlet when you analyse, or let rhetor watch feeds.";
      return;
    }
    const shown = p.b ? [p.a, p.b] : [p.a];
    status.textContent = "Loading…";
    const q = outletQuery(p, shown).toString();
    const reports = p.b ? (await api("/api/outlets/compare?" + q)).outlets : [await api("/api/outlets/report?" + q)];
    if (seq !== outletsSeq) return;
    status.textContent = (p.technique ? p.technique + " spans" : "All techniques") +
      (p.from || p.to ? ", " + (p.from || "the start") + " to " + (p.to || "today") : ", every date");
    const top = $("o-csv");
    top.textContent = "";
    top.append("Download " + (shown.length > 1 ? "both outlets' tables" : "tables") + " as CSV: ");
    Object.keys(TABLES).forEach((t, i) => {
      if (i) top.append(" · ");
      top.append(csvLink(p, shown, t, TABLES[t].toLowerCase()));
    });
    top.hidden = false;
    drawOutlets(p, reports);
  }

  function figure(title, p, outlet, table, ...body) {
    return el("figure", { class: "ofig", "data-table": table },
      el("figcaption", null, el("span", { text: title }), " ", csvLink(p, [outlet], table)), ...body);
  }

  function weeksChart(r, maxArticles) {
    const n = Math.max(1, r.weeks.length);
    const W = 300, H = 90, bw = W / n;
    const box = svg("svg", {
      class: "chart weeks", viewBox: "0 0 " + W + " " + H, role: "img", preserveAspectRatio: "none",
      "aria-label": "Articles per week of " + r.outlet + ": " + r.weeks.map((w) => w.week + " " + w.articles).join(", "),
    });
    r.weeks.forEach((w, i) => {
      const h = H * w.articles / maxArticles;
      box.append(svg("rect", { class: "wk", x: (i * bw + bw * 0.1).toFixed(2), y: (H - h).toFixed(2),
        width: (bw * 0.8).toFixed(2), height: h.toFixed(2) },
      svgTitle("Week of " + w.week + ": " + plural(w.articles, "article", "articles") + ", " +
        plural(w.spans, "span", "spans") + ", " + rate(w.spans_per_1000_words) + " per 1,000 words")));
    });
    return box;
  }

  function axis(r, note) {
    const first = r.weeks.length ? r.weeks[0].week : "", last = r.weeks.length ? r.weeks[r.weeks.length - 1].week : "";
    return el("div", { class: "axis" }, el("span", { text: first }), el("span", { text: note }),
      el("span", { text: last !== first ? last : "" }));
  }

  // Lines per week: all counted spans, and the outlet's three most used techniques.
  function trendChart(r, maxRate) {
    const W = 300, H = 90, n = r.weeks.length;
    const x = (i) => (n > 1 ? 6 + i * (W - 12) / (n - 1) : W / 2);
    const y = (v) => H - 4 - (H - 8) * v / maxRate;
    const box = svg("svg", { class: "chart trends", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "Spans per 1,000 words per week of " + r.outlet });
    const top = r.techniques.filter((t) => t.spans > 0).sort((a, b) => b.spans - a.spans).slice(0, 3);
    const series = [{ name: "All counted spans", cls: "total", at: (w) => w.spans_per_1000_words }]
      .concat(top.length > 1 || (top.length === 1 && !r.technique) ? top.map((t) => ({
        name: t.technique, cls: "t" + techOf(t.technique).index,
        at: (w) => (w.words ? 1000 * (w.techniques[t.technique] || 0) / w.words : 0),
      })) : []);
    const keys = el("div", { class: "keys" });
    for (const s of series) {
      const pts = r.weeks.map((w, i) => [x(i), y(s.at(w))]);
      box.append(svg("polyline", { class: "line " + s.cls, points: pts.map((q) => q[0].toFixed(1) + "," + q[1].toFixed(1)).join(" ") }));
      r.weeks.forEach((w, i) => box.append(svg("circle", { class: "pt " + s.cls, cx: pts[i][0].toFixed(1), cy: pts[i][1].toFixed(1), r: 2.5 },
        svgTitle(s.name + ", week of " + w.week + ": " + rate(s.at(w)) + " per 1,000 words"))));
      keys.append(el("span", { class: "key " + s.cls }, el("span", { class: "sw", "aria-hidden": "true" }), s.name));
    }
    return [box, keys];
  }

  function speakersTable(r) {
    if (!r.speakers.length) return el("p", { class: "meta", text: "No quoted speaker has a counted span." });
    const body = el("tbody");
    for (const sp of r.speakers) {
      const techs = Object.entries(sp.techniques).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      body.append(el("tr", null, el("td", { text: sp.speaker }), el("td", { text: sp.kind }),
        el("td", { class: "num", text: String(sp.articles) }), el("td", { class: "num", text: String(sp.spans) }),
        el("td", null, el("div", { class: "chips" }, ...techs.map(([t, c]) => el("span", { class: "chip t" + techOf(t).index },
          el("span", { class: "sw", "aria-hidden": "true" }), t + " " + c))))));
    }
    return el("div", { class: "wrap" }, el("table", { class: "speakers" },
      el("thead", null, el("tr", null, ...["Speaker", "Kind", "Articles", "Spans", "Techniques"].map((h) => el("th", { scope: "col", text: h })))),
      body));
  }

  function drawOutlets(p, reports) {
    const cols = $("o-cols");
    cols.textContent = "";
    cols.classList.toggle("two", reports.length > 1);
    document.body.classList.toggle("wide", reports.length > 1);
    const maxArticles = Math.max(1, ...reports.flatMap((r) => r.weeks.map((w) => w.articles)));
    const maxTech = Math.max(0.001, ...reports.flatMap((r) => r.techniques.map((t) => t.spans_per_1000_words)));
    const maxVoice = Math.max(0.001, ...reports.flatMap((r) => r.voices.map((v) => v.spans_per_1000_words)));
    const maxRate = Math.max(0.001, ...reports.flatMap((r) => r.weeks.map((w) => w.spans_per_1000_words)));
    // One technique order for both columns: most used first, by the first outlet, then the second.
    const order = new Map();
    for (const r of reports) {
      for (const t of r.techniques.filter((t) => t.spans > 0).sort((a, b) => b.spans_per_1000_words - a.spans_per_1000_words)) {
        if (!order.has(t.technique)) order.set(t.technique, order.size);
      }
    }
    for (const r of reports) {
      const col = el("section", { class: "ocol", "aria-label": r.outlet });
      col.append(el("h2", { class: "oname", text: r.outlet }));
      const days = r.first_day ? (r.first_day === r.last_day ? r.first_day : r.first_day + " to " + r.last_day) : "";
      col.append(el("p", { class: "osum" },
        el("span", { class: "big", text: rate(r.spans_per_1000_words) }), " spans per 1,000 words · ",
        el("span", { class: "big", text: pct(r.share_of_words_in_spans) }), " of words in spans"));
      col.append(el("p", { class: "meta ocount", text: [plural(r.articles, "article", "articles"), plural(r.words, "word", "words"),
        plural(r.spans, "span", "spans"), days].filter(Boolean).join(" · ") }));
      if (!r.articles) {
        col.append(el("p", { class: "meta", text: "No articles from " + r.outlet + " in this range." }));
        cols.append(col);
        continue;
      }
      col.append(figure("Articles per week", p, r.outlet, "weeks", weeksChart(r, maxArticles), axis(r, "max " + maxArticles)));
      const tbox = el("div", { class: "bars" });
      const byName = new Map(r.techniques.map((t) => [t.technique, t]));
      hbars(tbox, [...order.keys()].map((name) => {
        const t = byName.get(name) || { technique: name, spans: 0, articles: 0, spans_per_1000_words: 0 };
        return { label: name, value: t.spans_per_1000_words, cls: "t" + techOf(name).index + " tc",
          title: plural(t.spans, "span", "spans") + " in " + plural(t.articles, "article", "articles") };
      }), (row) => rate(row.value), maxTech);
      col.append(figure("Technique profile: spans per 1,000 words", p, r.outlet, "techniques", tbox));
      col.append(figure("Trends per week: spans per 1,000 words", p, r.outlet, "trends", ...trendChart(r, maxRate),
        axis(r, "max " + rate(maxRate))));
      const vbox = el("div", { class: "bars" });
      hbars(vbox, r.voices.map((v) => ({
        label: VOICES[v.voice] || v.voice, value: v.spans_per_1000_words, cls: "v-" + v.voice, share: v.share_of_spans,
        title: Object.entries(v.techniques).sort((a, b) => b[1] - a[1]).map(([t, c]) => t + " " + c).join(", "),
      })), (row) => rate(row.value) + " · " + pct(row.share) + " of spans", maxVoice);
      col.append(figure("The author's voice against quoted voices", p, r.outlet, "voices", vbox));
      col.append(figure("Top quoted speakers", p, r.outlet, "speakers", speakersTable(r)));
      cols.append(col);
    }
  }

  $("o-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    const put = (k, v) => { if (v) q.set(k, v); };
    put("a", $("o-a").value);
    if ($("o-b").value !== $("o-a").value) put("b", $("o-b").value);
    put("from", $("o-from").value);
    put("to", $("o-to").value);
    put("technique", $("o-technique").value);
    go("/outlets" + (q.toString() ? "?" + q.toString() : ""));
  });

  function failOutlets(err) {
    $("o-status").textContent = "Could not load: " + err.message;
    $("o-cols").textContent = "";
    $("o-csv").hidden = true;
  }

  // ---- pages -----------------------------------------------------------------------------------

  async function route() {
    view.hideTip();
    const path = location.pathname;
    const m = /^\/a\/(\d+)$/.exec(path);
    $("view-analyze").hidden = path !== "/";
    $("view-archive").hidden = path !== "/archive";
    $("view-outlets").hidden = path !== "/outlets";
    $("nav-analyze").toggleAttribute("aria-current", path === "/");
    $("nav-archive").toggleAttribute("aria-current", path === "/archive");
    $("nav-outlets").toggleAttribute("aria-current", path === "/outlets");
    if (path !== "/outlets") document.body.classList.remove("wide");
    if (path === "/") {
      $("view-result").hidden = !state.analysis || !!state.fromPermalink;
      if (state.fromPermalink) { state.analysis = null; state.fromPermalink = false; }
      document.title = "rhetor · propaganda techniques in news articles";
    } else if (path === "/archive") {
      $("view-result").hidden = true;
      document.title = "Archive · rhetor";
      loadArchive().catch(fail);
    } else if (path === "/outlets") {
      $("view-result").hidden = true;
      document.title = "Outlets · rhetor";
      loadOutlets().catch(failOutlets);
    } else if (m) {
      $("view-result").hidden = true;
      try {
        await techReady;
        const rec = await api("/api/articles/" + m[1]);
        state.fromPermalink = true;
        showResult(rec.analysis, rec);
        document.title = (rec.title || "Article " + rec.id) + " · rhetor";
      } catch (err) {
        $("view-result").hidden = false;
        $("r-title").textContent = err.status === 404 ? "No such article" : "Could not load the article";
        $("r-meta").textContent = err.message;
        view.clear();
        for (const id of ["r-counts", "r-density", "r-model"]) $(id).textContent = "";
      }
    }
  }

  function go(path) {
    history.pushState(null, "", path);
    route();
    $("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-nav]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    go(a.getAttribute("href"));
  });
  window.addEventListener("popstate", route);
  route();
})();
