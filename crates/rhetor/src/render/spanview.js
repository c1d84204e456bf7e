// rhetor span view: the one implementation of the displaCy-style span layout. The server's web app
// loads it as /assets/spanview.js; the self-contained page of `rhetor analyze --format html`
// embeds it inline. Both call it on plain data: an Analysis as JSON (docs/analysis-json.md) and
// the technique list of GET /api/techniques ({name, index, color, definition, example}).
//
// Safety: the analysis is untrusted. Its text only ever reaches the page through textContent and
// attribute setters, never innerHTML (the server's CSP also forbids inline scripts).
//
// Offsets are code points, so the text is split with Array.from. Overlapping spans stack as thin
// colour bars in slots under the text, the label shown once per span; each piece of text is tinted
// with its innermost visible span. `voice` (`"author"` or `{"quoted": "<speaker>"}`) is shown when
// an analysis has it: a "Speaker" line in the tooltip, a column in the span table, dashed bars for
// quoted speakers. With `voices` (an element), the technique counts per voice kind (the outlet's
// own, quoted people, organisations, groups) and per quoted speaker are listed there.
"use strict";
(function (global) {
  const TECH = { list: [], byName: new Map() };

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

  // ---- techniques and colours ---------------------------------------------------------------

  // WCAG relative luminance, as the Rust renderers compute it (render/colour.rs).
  function luminance(hex) {
    const h = String(hex).replace("#", "");
    const c = [0, 2, 4].map((i) => (parseInt(h.slice(i, i + 2), 16) || 128) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  // Learns the techniques and sets their colours (--cN) and readable text colours (--fN).
  function setTechniques(list) {
    TECH.list = list;
    TECH.byName.clear();
    const root = document.documentElement.style;
    for (const t of list) {
      TECH.byName.set(t.name, t);
      const l = luminance(t.color);
      root.setProperty("--c" + t.index, t.color);
      root.setProperty("--f" + t.index, (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff");
    }
  }

  function techOf(name) {
    return TECH.byName.get(name) || { name: String(name), index: 0, definition: "", color: "#888" };
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

  // Plain items from an analysis, clamped to the text (spans read from JSON may reach past it or
  // run backwards).
  function items(analysis, nChars) {
    return (analysis.spans || []).map((s, k) => {
      const start = Math.min(Math.max(0, s.start | 0), nChars);
      const end = Math.min(Math.max(start, s.end | 0), nChars);
      return {
        n: k + 1, start, end, technique: String(s.technique), t: techOf(s.technique).index,
        confidence: Number(s.confidence) || 0, snippet: String(s.snippet || ""),
        voice: voiceOf(s.voice),
        runnerUp: s.runner_up && s.runner_up.technique
          ? { technique: String(s.runner_up.technique), p: Number(s.runner_up.probability) || 0 } : null,
        reason: Array.isArray(s.reason) ? s.reason.map(String) : [],
      };
    });
  }

  // Non-empty spans by start, longer first: the order spans open in and take slots in.
  function openOrder(its) {
    return its.map((_, i) => i).filter((i) => its[i].end > its[i].start)
      .sort((a, b) => its[a].start - its[b].start || its[b].end - its[a].end || a - b);
  }

  // A slot (row of bars) per span so that overlapping spans never share one; longer spans lower.
  function slots(its) {
    const slot = new Array(its.length).fill(0);
    const ends = [];
    for (const i of openOrder(its)) {
      let s = ends.findIndex((e) => e <= its[i].start);
      if (s < 0) { s = ends.length; ends.push(0); }
      slot[i] = s;
      ends[s] = its[i].end;
    }
    return { slot, count: ends.length };
  }

  // The text with its spans: pieces (a word and the spaces after it, so that lines wrap between
  // words) carrying one bar per span covering them.
  function layout(chars, its) {
    const { slot, count } = slots(its);
    const cuts = new Set([0, chars.length]);
    for (const it of its) if (it.end > it.start) { cuts.add(it.start); cuts.add(it.end); }
    const points = Array.from(cuts).sort((a, b) => a - b);
    const order = openOrder(its);
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
      let piece = 0, after = false;
      const flush = (a, b) => {
        if (a === b) return;
        const tk = el("span", { class: "tk", "data-spans": act.join(" ") }, seg.slice(a, b).join(""));
        for (const i of act) {
          const it = its[i];
          const bar = el("span", {
            class: "bar t" + it.t + (from + a === it.start ? " st" : "") + (from + b === it.end ? " en" : "") +
              (quoted(it) ? " q" : ""),
            "data-s": slot[i], "data-i": i,
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
    return { frag, slots: count };
  }

  // ---- the view --------------------------------------------------------------------------------

  // Mounts a span view on existing elements: `doc` (the text), `legend`, `tip` (the tooltip) and
  // optionally `table` (a table with a tbody: one row per span), `hint` (a line of help),
  // `voices` (where the counts per voice go; hidden when the analysis has none) and `root` (where
  // the hide-tN classes go; the body by default). Returns {show, clear, hideTip}.
  function mount(parts) {
    const root = parts.root || document.body;
    const { doc, legend, tip } = parts;
    const state = { items: [], hidden: new Set(), pinned: null, minConf: 0 };
    // A span is shown unless its technique is hidden or its confidence is under the slider's.
    const visible = (it) => !state.hidden.has(it.technique) && it.confidence >= state.minConf;

    function clear() {
      state.items = [];
      state.hidden.clear();
      for (const c of Array.from(root.classList)) if (c.startsWith("hide-t")) root.classList.remove(c);
      state.minConf = 0;
      doc.textContent = "";
      legend.textContent = "";
      if (parts.table) parts.table.tBodies[0].textContent = "";
      if (parts.voices) { parts.voices.textContent = ""; parts.voices.hidden = true; }
      hideTip();
    }

    function show(analysis) {
      clear();
      const chars = Array.from(analysis.text || "");
      state.items = items(analysis, chars.length);
      const { frag, slots: count } = layout(chars, state.items);
      doc.style.setProperty("--slots", String(count));
      doc.dataset.slots = String(count);
      doc.append(frag);
      renderLegend(analysis);
      renderTable();
      renderVoices(analysis);
      setMinConfidence(state.minConf);
      fitLabels();
    }

    // Each piece of text is tinted with the colour of its innermost visible span.
    function shade() {
      const its = state.items;
      for (const tk of doc.querySelectorAll(".tk")) {
        let best = null;
        for (const s of tk.dataset.spans.split(" ")) {
          const it = its[+s];
          if (!it || !visible(it)) continue;
          if (best === null || it.end - it.start <= best.end - best.start) best = it;
        }
        tk.className = best ? "tk bg" + best.t : "tk";
      }
    }

    // Labels that would overflow the right edge of the text are anchored at their right end.
    function fitLabels() {
      const right = doc.getBoundingClientRect().right;
      for (const l of doc.querySelectorAll(".lab")) {
        l.classList.remove("flip");
        if (l.getBoundingClientRect().right > right) l.classList.add("flip");
      }
    }
    window.addEventListener("resize", () => { if (state.items.length) fitLabels(); });

    function renderLegend(analysis) {
      const counts = analysis.counts || {};
      const names = TECH.list.map((t) => t.name).filter((n) => counts[n] > 0);
      for (const n of Object.keys(counts)) if (!names.includes(n)) names.push(n);
      for (const name of names) {
        const t = techOf(name);
        legend.append(el("button", {
          type: "button", class: "lg t" + t.index, "data-technique": name, "aria-pressed": "true",
          title: t.definition + (t.example ? "\nExample: " + t.example : ""),
          onclick: (e) => toggle(name, e.currentTarget),
        }, el("span", { class: "sw", "aria-hidden": "true" }), name + " ",
        el("b", { class: "count", text: String(counts[name]) })));
      }
      if (names.length === 0) legend.append(el("p", { class: "meta", text: "No propaganda techniques found." }));
      else {
        const out = el("output", { text: state.minConf.toFixed(2) });
        const range = el("input", {
          type: "range", min: "0", max: "0.9", step: "0.05", value: String(state.minConf),
          "aria-label": "Hide spans below this confidence",
          oninput: (e) => { out.textContent = Number(e.currentTarget.value).toFixed(2); setMinConfidence(Number(e.currentTarget.value)); },
        });
        legend.append(el("label", { class: "minconf", title: "A span's confidence is the probability that it is right" },
          "Hide spans below confidence ", range, " ", out));
      }
    }

    // Hides the bars, labels and table rows of spans under `p`.
    function setMinConfidence(p) {
      state.minConf = p;
      for (const bar of doc.querySelectorAll(".bar")) {
        const it = state.items[+bar.dataset.i];
        bar.classList.toggle("low", !!it && it.confidence < p);
      }
      if (parts.table) {
        for (const it of state.items) {
          const row = parts.table.querySelector("#sp" + it.n);
          if (row) row.classList.toggle("low", it.confidence < p);
        }
      }
      shade();
    }

    function toggle(name, button) {
      const hide = !state.hidden.has(name);
      if (hide) state.hidden.add(name); else state.hidden.delete(name);
      button.setAttribute("aria-pressed", hide ? "false" : "true");
      root.classList.toggle("hide-t" + techOf(name).index, hide);
      shade();
    }

    function renderTable() {
      const its = state.items;
      const anyVoice = its.some((it) => it.voice !== null);
      if (parts.hint) {
        parts.hint.textContent = "Hover, tap or focus a highlighted passage for the technique, its definition " +
          "and the model's confidence" + (anyVoice ? " and who speaks. Dashed bars: words of a quoted speaker." : ".");
      }
      if (!parts.table) return;
      parts.table.classList.toggle("has-voice", anyVoice);
      const body = parts.table.tBodies[0];
      for (const it of its) {
        body.append(el("tr", { id: "sp" + it.n, class: "t" + it.t },
          el("td", { class: "num", text: String(it.n) }),
          el("td", { class: "tech" }, el("span", { class: "sw", "aria-hidden": "true" }), " " + it.technique),
          el("td", { class: "num", text: it.confidence.toFixed(2) }),
          el("td", { class: "num", text: it.start + "–" + it.end }),
          el("td", { class: "voice-col", text: it.voice ? it.voice.who : "" }),
          el("td", { class: "snip", text: it.snippet })));
      }
    }

    // Technique counts per voice kind, then per quoted speaker (name, kind, counts).
    const KINDS = ["author", "person", "organization", "group", "unknown"];
    const KIND_LABEL = { author: "The outlet (author)", person: "Quoted people", organization: "Quoted organisations",
      group: "Quoted groups", unknown: "Other quoted speakers" };
    function countsText(counts) {
      return Object.entries(counts || {}).filter(([, c]) => Number(c) > 0)
        .map(([t, c]) => t + " " + Number(c)).join(", ");
    }
    const total = (counts) => Object.values(counts || {}).reduce((a, c) => a + (Number(c) || 0), 0);
    function renderVoices(analysis) {
      const box = parts.voices;
      if (!box) return;
      const voices = analysis.voices && typeof analysis.voices === "object" ? analysis.voices : {};
      const kinds = Object.keys(voices).sort((a, b) =>
        ((KINDS.indexOf(a) + 6) % 6) - ((KINDS.indexOf(b) + 6) % 6) || (a < b ? -1 : 1));
      const speakers = Array.isArray(analysis.speakers) ? analysis.speakers : [];
      if (kinds.length === 0 && speakers.length === 0) return;
      box.hidden = false;
      box.append(el("h2", { text: "Whose voice" }));
      const byKind = el("table", { class: "voices-kind" },
        el("thead", null, el("tr", null, el("th", { scope: "col", text: "Voice" }),
          el("th", { scope: "col", text: "Spans" }), el("th", { scope: "col", text: "Techniques" }))));
      const kb = el("tbody");
      for (const k of kinds) {
        kb.append(el("tr", { "data-kind": k }, el("td", { text: KIND_LABEL[k] || String(k) }),
          el("td", { class: "num", text: String(total(voices[k])) }), el("td", { text: countsText(voices[k]) })));
      }
      byKind.append(kb);
      box.append(byKind);
      if (speakers.length === 0) return;
      const bySpeaker = el("table", { class: "voices-speaker" },
        el("thead", null, el("tr", null, el("th", { scope: "col", text: "Speaker" }),
          el("th", { scope: "col", text: "Kind" }), el("th", { scope: "col", text: "Spans" }),
          el("th", { scope: "col", text: "Techniques" }))));
      const sb = el("tbody");
      for (const sp of speakers) {
        sb.append(el("tr", null, el("td", { text: String(sp.name || "") }), el("td", { text: String(sp.kind || "unknown") }),
          el("td", { class: "num", text: String(total(sp.counts)) }), el("td", { text: countsText(sp.counts) })));
      }
      bySpeaker.append(sb);
      box.append(bySpeaker);
    }

    // ---- tooltip -------------------------------------------------------------------------------

    function showTip(target, idxs) {
      tip.textContent = "";
      for (const i of idxs) {
        const it = state.items[i];
        if (!it || !visible(it)) continue;
        const row = el("div", { class: "tip-row t" + it.t },
          el("div", { class: "tip-h" }, el("span", { class: "sw", "aria-hidden": "true" }),
            el("b", { text: it.n + ". " + it.technique }),
            el("span", { class: "conf", text: " confidence " + it.confidence.toFixed(2) })));
        if (it.voice !== null) {
          row.append(el("div", { class: "tip-voice", text: "Speaker: " + it.voice.who + (it.voice.quoted ? " (quoted)" : "") }));
        }
        row.append(el("div", { class: "tip-def", text: techOf(it.technique).definition }));
        if (it.reason.length) {
          row.append(el("div", { class: "tip-why", text: "Why: " + it.reason.map((w) => "\u201c" + w + "\u201d").join(", ") }));
        }
        if (it.runnerUp) {
          row.append(el("div", { class: "tip-alt", text: "Runner-up: " + it.runnerUp.technique + " (" + it.runnerUp.p.toFixed(2) + ")" }));
        }
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
    const spansOf = (tk) => tk.dataset.spans.split(" ").map(Number);

    doc.addEventListener("mouseover", (e) => {
      if (state.pinned) return;
      const tk = e.target.closest(".tk");
      if (tk) showTip(tk, spansOf(tk));
    });
    doc.addEventListener("mouseleave", () => { if (!state.pinned) hideTip(); });
    doc.addEventListener("click", (e) => {
      const tk = e.target.closest(".tk");
      if (e.target.closest(".lab")) return; // follows the link to the span's row
      if (!tk || state.pinned === tk) { hideTip(); return; }
      state.pinned = tk;
      showTip(tk, spansOf(tk));
    });
    doc.addEventListener("focusin", (e) => {
      const lab = e.target.closest(".lab");
      if (lab) showTip(lab, [Number(lab.dataset.span)]);
    });
    doc.addEventListener("focusout", () => { if (!state.pinned) hideTip(); });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTip(); });

    return { show, clear, hideTip };
  }

  global.RhetorSpans = { el, setTechniques, techOf, mount };
})(window);
