// rhetor web app: analyze, show spans, archive with charts. The span view itself (stacked bars,
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
    const sel = $("f-technique");
    for (const t of list) sel.append(el("option", { value: t.name, text: t.name }));
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

  function hbars(box, rows, fmt) {
    box.textContent = "";
    const max = Math.max(1, ...rows.map((r) => r.value));
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

  // ---- pages -----------------------------------------------------------------------------------

  async function route() {
    view.hideTip();
    const path = location.pathname;
    const m = /^\/a\/(\d+)$/.exec(path);
    $("view-analyze").hidden = path !== "/";
    $("view-archive").hidden = path !== "/archive";
    $("nav-analyze").toggleAttribute("aria-current", path === "/");
    $("nav-archive").toggleAttribute("aria-current", path === "/archive");
    if (path === "/") {
      $("view-result").hidden = !state.analysis || !!state.fromPermalink;
      if (state.fromPermalink) { state.analysis = null; state.fromPermalink = false; }
      document.title = "rhetor · propaganda techniques in news articles";
    } else if (path === "/archive") {
      $("view-result").hidden = true;
      document.title = "Archive · rhetor";
      loadArchive().catch(fail);
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
