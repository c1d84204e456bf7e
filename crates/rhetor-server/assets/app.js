// rhetor web app: analyze, show spans (displaCy-style stacked bars), archive with charts.
//
// Safety: article text and everything else from the API is untrusted. It only ever reaches the
// page through textContent and attribute setters, never innerHTML; the server's CSP also forbids
// inline scripts.
//
// Rendering takes plain data: spans {start, end, technique, confidence, voice?}. Offsets are code
// points, so the text is split with Array.from. `voice` (whose words: `"author"` or
// `{"quoted": "<speaker>"}`) is shown when an analysis has it: a "Speaker" line in the tooltip, a
// column in the span table, striped bars for quoted speakers.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const TECH = { list: [], byName: new Map() };
  const state = { analysis: null, hidden: new Set(), pinned: null, archivePage: 1 };

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

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

  // ---- techniques and colours ---------------------------------------------------------------

  function luminance(hex) {
    const h = hex.replace("#", "");
    const c = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  const techReady = api("/api/techniques").then((list) => {
    TECH.list = list;
    const root = document.documentElement.style;
    for (const t of list) {
      TECH.byName.set(t.name, t);
      const l = luminance(t.color);
      root.setProperty("--c" + t.index, t.color);
      root.setProperty("--f" + t.index, (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff");
    }
    const sel = $("f-technique");
    for (const t of list) sel.append(el("option", { value: t.name, text: t.name }));
  });

  function techOf(name) {
    return TECH.byName.get(name) || { name: String(name), index: 0, definition: "", color: "#888" };
  }

  function pct(x) {
    return (100 * (Number(x) || 0)).toFixed(1) + "%";
  }

  // ---- spans -----------------------------------------------------------------------------------

  function isBreak(c) {
    return c === "\n" || c === "\r" || c === "\u000b" || c === "\u000c" || c === "\u0085" ||
      c === "\u2028" || c === "\u2029";
  }
  const isSpace = (c) => /\s/u.test(c);
  // A span's voice as {who, quoted}, or null when the analysis does not say.
  function voiceOf(v) {
    if (v === undefined || v === null) return null;
    if (typeof v === "string") return { who: v === "author" ? "the author" : v, quoted: v !== "author" };
    if (typeof v === "object" && v.quoted !== undefined) return { who: String(v.quoted), quoted: true };
    return null;
  }
  const quoted = (it) => it.voice !== null && it.voice.quoted;

  // Plain items from an analysis, clamped to the text.
  function items(analysis, nChars) {
    return (analysis.spans || []).map((s, k) => {
      const start = Math.min(Math.max(0, s.start | 0), nChars);
      const end = Math.min(Math.max(start, s.end | 0), nChars);
      return {
        n: k + 1, start, end, technique: String(s.technique), t: techOf(s.technique).index,
        confidence: Number(s.confidence) || 0,
        voice: voiceOf(s.voice),
      };
    });
  }

  // A slot (row of bars) per span so that overlapping spans never share one; longer spans lower.
  function slots(its) {
    const order = its.map((_, i) => i).filter((i) => its[i].end > its[i].start)
      .sort((a, b) => its[a].start - its[b].start || its[b].end - its[a].end || a - b);
    const slot = new Array(its.length).fill(0);
    const ends = [];
    for (const i of order) {
      let s = ends.findIndex((e) => e <= its[i].start);
      if (s < 0) { s = ends.length; ends.push(0); }
      slot[i] = s;
      ends[s] = its[i].end;
    }
    return { slot, count: ends.length };
  }

  function renderDoc(analysis) {
    const doc = $("doc");
    doc.textContent = "";
    const chars = Array.from(analysis.text || "");
    const its = items(analysis, chars.length);
    const { slot, count } = slots(its);
    doc.style.setProperty("--slots", String(count));
    const cuts = new Set([0, chars.length]);
    for (const it of its) if (it.end > it.start) { cuts.add(it.start); cuts.add(it.end); }
    const points = Array.from(cuts).sort((a, b) => a - b);
    const order = its.map((_, i) => i).filter((i) => its[i].end > its[i].start)
      .sort((a, b) => its[a].start - its[b].start || its[b].end - its[a].end || a - b);
    const labelled = new Array(its.length).fill(false);
    let next = 0;
    let active = [];
    const frag = document.createDocumentFragment();
    for (let k = 0; k + 1 < points.length; k++) {
      const from = points[k], to = points[k + 1];
      active = active.filter((i) => its[i].end > from);
      while (next < order.length && its[order[next]].start === from) active.push(order[next++]);
      const seg = chars.slice(from, to);
      if (active.length === 0) { frag.append(seg.join("")); continue; }
      const act = active.slice().sort((a, b) => slot[a] - slot[b]);
      // Pieces: a word and the spaces after it, so that lines wrap between words.
      let piece = 0, after = false;
      const flush = (a, b) => {
        if (a === b) return;
        const tk = el("span", { class: "tk", "data-spans": act.join(" ") }, seg.slice(a, b).join(""));
        for (const i of act) {
          const it = its[i];
          const bar = el("span", {
            class: "bar t" + it.t + (from + a === it.start ? " st" : "") + (from + b === it.end ? " en" : "") +
              (quoted(it) ? " q" : ""),
          });
          bar.style.setProperty("--s", String(slot[i]));
          if (!labelled[i]) {
            labelled[i] = true;
            bar.append(el("a", {
              class: "lab", href: "#sp" + it.n, "data-span": i, "data-technique": it.technique,
              "aria-label": it.n + ". " + it.technique + ", confidence " + it.confidence.toFixed(2),
              text: it.n + " " + it.technique,
            }));
          }
          tk.append(bar);
        }
        frag.append(tk);
      };
      for (let j = 0; j < seg.length; j++) {
        const c = seg[j];
        if (isBreak(c)) { flush(piece, j); frag.append(c); piece = j + 1; after = false; }
        else if (isSpace(c)) after = true;
        else if (after) { flush(piece, j); piece = j; after = false; }
      }
      flush(piece, seg.length);
    }
    doc.append(frag);
    state.items = its;
    shade();
    fitLabels();
  }

  // Each piece of text is tinted with the colour of its innermost visible span.
  function shade() {
    const its = state.items || [];
    for (const tk of $("doc").querySelectorAll(".tk")) {
      let best = null;
      for (const s of tk.dataset.spans.split(" ")) {
        const it = its[+s];
        if (!it || state.hidden.has(it.technique)) continue;
        if (best === null || it.end - it.start <= best.end - best.start) best = it;
      }
      tk.className = best ? "tk bg" + best.t : "tk";
    }
  }

  function fitLabels() {
    const right = $("doc").getBoundingClientRect().right;
    for (const l of $("doc").querySelectorAll(".lab")) {
      l.classList.remove("flip");
      if (l.getBoundingClientRect().right > right) l.classList.add("flip");
    }
  }
  window.addEventListener("resize", () => { if (state.analysis) fitLabels(); });

  function renderLegend(analysis) {
    const legend = $("legend");
    legend.textContent = "";
    const counts = analysis.counts || {};
    const names = TECH.list.map((t) => t.name).filter((n) => counts[n] > 0);
    for (const n of Object.keys(counts)) if (!names.includes(n)) names.push(n);
    for (const name of names) {
      const t = techOf(name);
      const on = !state.hidden.has(name);
      legend.append(el("button", {
        type: "button", class: "lg t" + t.index, "data-technique": name, "aria-pressed": on ? "true" : "false",
        title: t.definition + (t.example ? "\nExample: " + t.example : ""),
        onclick: (e) => toggle(name, e.currentTarget),
      }, el("span", { class: "sw", "aria-hidden": "true" }), name + " ", el("b", { class: "count", text: String(counts[name]) })));
    }
    if (names.length === 0) legend.append(el("p", { class: "meta", text: "No propaganda techniques found." }));
  }

  function toggle(name, button) {
    const t = techOf(name);
    const hide = !state.hidden.has(name);
    if (hide) state.hidden.add(name); else state.hidden.delete(name);
    button.setAttribute("aria-pressed", hide ? "false" : "true");
    document.body.classList.toggle("hide-t" + t.index, hide);
    shade();
  }

  function renderSpanTable(analysis) {
    const body = $("r-spans").tBodies[0];
    body.textContent = "";
    const its = state.items;
    const anyVoice = its.some((it) => it.voice !== null);
    $("r-spans").classList.toggle("has-voice", anyVoice);
    $("r-hint").textContent = "Hover, tap or focus a highlighted passage for the technique, its definition and the " +
      "model's confidence" + (anyVoice ? " and who speaks. Dashed bars: words of a quoted speaker." : ".");
    for (const it of its) {
      const s = analysis.spans[it.n - 1];
      body.append(el("tr", { id: "sp" + it.n, class: "t" + it.t },
        el("td", { class: "num", text: String(it.n) }),
        el("td", { class: "tech" }, el("span", { class: "sw", "aria-hidden": "true" }), " " + it.technique),
        el("td", { class: "num", text: it.confidence.toFixed(2) }),
        el("td", { class: "num", text: it.start + "–" + it.end }),
        el("td", { class: "voice-col", text: it.voice ? it.voice.who : "" }),
        el("td", { class: "snip", text: String(s.snippet || "") })));
    }
  }

  function showResult(analysis, article) {
    state.analysis = analysis;
    state.hidden.clear();
    for (const c of Array.from(document.body.classList)) if (c.startsWith("hide-t")) document.body.classList.remove(c);
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
    renderLegend(analysis);
    $("view-result").hidden = false;
    renderDoc(analysis);
    renderSpanTable(analysis);
  }

  function densityOf(a) {
    const v = (a.spans || []).map((s) => [s.start, s.end]).sort((x, y) => x[0] - y[0]);
    let covered = 0, reach = 0;
    for (const [s0, e] of v) { const s = Math.max(s0, reach); if (e > s) { covered += e - s; reach = e; } }
    return a.length ? covered / a.length : 0;
  }

  // ---- tooltip ---------------------------------------------------------------------------------

  const tip = $("tip");
  function showTip(target, idxs) {
    const its = state.items || [];
    tip.textContent = "";
    for (const i of idxs) {
      const it = its[i];
      if (!it || state.hidden.has(it.technique)) continue;
      const t = techOf(it.technique);
      const row = el("div", { class: "tip-row t" + it.t },
        el("div", { class: "tip-h" }, el("span", { class: "sw", "aria-hidden": "true" }),
          el("b", { text: it.n + ". " + it.technique }),
          el("span", { class: "conf", text: " confidence " + it.confidence.toFixed(2) })));
      if (it.voice !== null) {
        row.append(el("div", { class: "tip-voice", text: "Speaker: " + it.voice.who + (it.voice.quoted ? " (quoted)" : "") }));
      }
      row.append(el("div", { class: "tip-def", text: t.definition }));
      tip.append(row);
    }
    if (!tip.firstChild) { hideTip(); return; }
    tip.hidden = false;
    const r = target.getBoundingClientRect();
    const w = Math.min(360, window.innerWidth - 16);
    tip.style.maxWidth = w + "px";
    let left = r.left + window.scrollX;
    left = Math.max(8, Math.min(left, window.scrollX + window.innerWidth - w - 8));
    tip.style.left = left + "px";
    tip.style.top = (r.bottom + window.scrollY + 6) + "px";
  }
  function hideTip() { tip.hidden = true; state.pinned = null; }

  const doc = $("doc");
  doc.addEventListener("mouseover", (e) => {
    if (state.pinned) return;
    const tk = e.target.closest(".tk");
    if (tk) showTip(tk, tk.dataset.spans.split(" ").map(Number));
  });
  doc.addEventListener("mouseleave", () => { if (!state.pinned) hideTip(); });
  doc.addEventListener("click", (e) => {
    const tk = e.target.closest(".tk");
    const lab = e.target.closest(".lab");
    if (lab) return; // follows the link to the span's row
    if (!tk) { hideTip(); return; }
    if (state.pinned === tk) { hideTip(); return; }
    state.pinned = tk;
    showTip(tk, tk.dataset.spans.split(" ").map(Number));
  });
  doc.addEventListener("focusin", (e) => {
    const lab = e.target.closest(".lab");
    if (lab) showTip(lab, [Number(lab.dataset.span)]);
  });
  doc.addEventListener("focusout", () => { if (!state.pinned) hideTip(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTip(); });

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
    hideTip();
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
        for (const id of ["legend", "doc", "r-counts", "r-density", "r-model"]) $(id).textContent = "";
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
