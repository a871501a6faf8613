/**
 * The viewer's page: one HTML shell, its stylesheet and its script (plain JavaScript, no bundler),
 * served as they are. The script reads the token from the page's own URL and adds it to every
 * request; it builds the DOM with text nodes only, so stored text (a fix, a screen) is never HTML.
 * xterm.js and asciinema-player are loaded when a session page needs them.
 */

/** The page, with its own URLs carrying `token` (base64url: nothing in it needs escaping). */
export function pageHtml(token: string): string {
  return PAGE_HTML.replaceAll("TOKEN", token);
}

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>experience-mcp</title>
<link rel="stylesheet" href="app.css?token=TOKEN">
</head>
<body>
<header>
  <b>experience-mcp</b>
  <nav><a href="#fixes" id="nav-fixes">Fixes</a> <a href="#tensors" id="nav-tensors">Tensors</a> <a href="#sessions" id="nav-sessions">Sessions</a></nav>
</header>
<main id="main"></main>
<script src="app.js?token=TOKEN"></script>
</body>
</html>
`;

export const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1f21; background: #fafafa; }
header { display: flex; gap: 2em; align-items: center; padding: .6em 1em; background: #1d1f21; color: #eee; }
header a { color: #9cf; margin-right: 1em; text-decoration: none; }
header a.on { color: #fff; text-decoration: underline; }
main { padding: 1em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #eee; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #1d1f21; color: #ddd; padding: .6em; overflow: auto; margin: .3em 0; }
.bar { display: inline-block; height: .7em; background: #4a9; vertical-align: middle; margin-right: .4em; }
.muted { color: #777; }
.badge { background: #4a9; color: #fff; border-radius: 3px; padding: 0 .4em; margin-left: .4em; font-size: 12px; }
.error { color: #b00; }
section { margin: 1em 0 2em; }
input[type=search] { width: 30em; padding: .3em; }
textarea { width: 100%; min-height: 6em; font-family: ui-monospace, monospace; }
button { margin: .3em .3em .3em 0; }
.step { border-left: 3px solid #4a9; padding-left: .8em; margin: .8em 0; }
#live .xterm { padding: .4em; background: #000; display: inline-block; }
`;

// Plain JavaScript for the browser (ES2020), kept free of backticks and dollar-brace so it sits in
// this string as it is.
export const PAGE_JS = String.raw`
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token") || "";
  var main = document.getElementById("main");
  var cleanup = [];

  function withToken(path, params) {
    var u = new URL(path, location.href);
    u.searchParams.set("token", token);
    Object.keys(params || {}).forEach(function (k) { if (params[k] !== undefined && params[k] !== "") u.searchParams.set(k, params[k]); });
    return u.pathname + u.search;
  }
  function api(path, params, body) {
    var init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    return fetch(withToken("/api/" + path, params), init).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; });
    });
  }
  function el(tag, attrs) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "onclick" || k === "oninput" || k === "onsubmit") e[k] = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      (Array.isArray(c) ? c : [c]).forEach(function (x) { e.appendChild(typeof x === "object" ? x : document.createTextNode(String(x))); });
    }
    return e;
  }
  function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) : "-"; }
  function firstLine(t, n) { var l = String(t || "").split("\n")[0]; return l.length > n ? l.slice(0, n - 1) + "\u2026" : l; }
  function strength(s) { return el("span", {}, el("span", { class: "bar", style: "width:" + Math.round(s * 60) + "px" }), s.toFixed(2)); }
  function table(head, rows) {
    return el("table", {}, el("thead", {}, el("tr", {}, head.map(function (h) { return el("th", {}, h); }))), el("tbody", {}, rows));
  }
  function fail(err) { main.appendChild(el("p", { class: "error" }, String(err && err.message || err))); }
  function loadScript(src) {
    if (document.querySelector('script[data-src="' + src + '"]')) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var s = el("script", { src: withToken(src), "data-src": src });
      s.onload = resolve; s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
      document.head.appendChild(el("link", { rel: "stylesheet", href: withToken(src.replace(/\.js$/, ".css")) }));
    });
  }

  // ---- fixes -------------------------------------------------------------------------------------
  function fixesPage() {
    var search = el("input", { type: "search", id: "fix-search", placeholder: "search fixes and errors" });
    var body = el("tbody", { id: "fix-rows" });
    var more = el("button", { id: "fix-more" }, "More");
    var state = { next: 0, q: "" };
    function load(reset) {
      if (reset) { body.textContent = ""; state.next = 0; }
      return api("fixes", { q: state.q, offset: state.next }).then(function (page) {
        page.items.forEach(function (f) {
          body.appendChild(el("tr", { "data-signature": f.signature },
            el("td", { class: "mono" }, el("a", { href: "#fix/" + f.signature }, f.signature)),
            el("td", {}, f.error_type),
            el("td", {}, strength(f.strength)),
            el("td", { class: "num" }, f.successes + "/" + f.failures),
            el("td", { class: "mono" }, firstLine(f.fix, 90)),
            el("td", {}, when(f.updated_at))));
        });
        state.next = page.next;
        more.style.display = page.next === null ? "none" : "";
        // When the first rows are on screen, measured from navigation (the viewer bench reads it).
        if (!performance.getEntriesByName("fixes-shown").length) performance.mark("fixes-shown");
        if (!body.firstChild) body.appendChild(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No fixes" + (state.q ? " match" : " yet"))));
      }).catch(fail);
    }
    var timer;
    search.oninput = function () { clearTimeout(timer); timer = setTimeout(function () { state.q = search.value; load(true); }, 150); };
    more.onclick = function () { load(false); };
    main.append(el("h2", {}, "Fixes"), search,
      el("table", {}, el("thead", {}, el("tr", {}, ["Signature", "Type", "Strength", "Worked/failed", "Fix", "Updated"].map(function (h) { return el("th", {}, h); }))), body), more);
    return load(true);
  }

  function fixPage(sig) {
    return api("fixes/" + sig).then(function (f) {
      var text = el("textarea", { id: "fix-text" });
      text.value = f.fix;
      var status = el("span", { id: "fix-status", class: "muted" });
      var forget = el("button", { id: "fix-forget" }, "Forget");
      forget.onclick = function () {
        if (forget.dataset.armed !== "1") { forget.dataset.armed = "1"; forget.textContent = "Really forget this fix?"; return; }
        api("fixes/" + sig + "/forget", {}, {}).then(function () { location.hash = "#fixes"; }).catch(fail);
      };
      main.append(el("h2", {}, "Fix ", el("code", {}, f.signature)),
        table(["Type", "Context", "Status", "Strength", "Worked", "Failed", "Seen", "Repository", "Created", "Updated"],
          [el("tr", {}, [f.error_type, f.context || "-", f.status, strength(f.strength), f.successes, f.failures, f.occurrences, f.repo || "-", when(f.created_at), when(f.updated_at)].map(function (v) { return el("td", {}, v); }))]),
        el("section", {}, el("h3", {}, "The fix"), text,
          el("button", { id: "fix-save", onclick: function () {
            api("fixes/" + sig + "/edit", {}, { fix: text.value }).then(function (r) { text.value = r.fix; status.textContent = "saved"; }).catch(fail);
          } }, "Save"), forget, status),
        el("section", {}, el("h3", {}, "The error it answers"), el("pre", {}, f.template)),
        el("section", {}, el("h3", {}, "Reported failing on (" + f.failed_on.length + ")"),
          f.failed_on.length ? f.failed_on.map(function (d) { return el("div", { class: "step" }, el("div", { class: "muted" }, when(d.created_at)), el("pre", {}, d.template)); }) : el("p", { class: "muted" }, "no failure reported with its error")),
        el("section", {}, el("h3", {}, "History: every fix given, and the error each was given for"),
          f.history.map(function (h) { return el("div", { class: "step" }, el("div", { class: "muted" }, when(h.created_at)), el("pre", {}, h.fix), h.sample ? el("pre", {}, h.sample) : null); })));
    });
  }

  // ---- tensors -----------------------------------------------------------------------------------
  function tensorsPage() {
    return api("tensors").then(function (r) {
      main.append(el("h2", {}, "Tensors"), table(["Tensor", "Active version", "Rows"], r.items.map(function (t) {
        return el("tr", {}, el("td", {}, el("a", { href: "#tensor/" + encodeURIComponent(t.name) }, t.name)), el("td", { class: "num" }, t.active_version), el("td", { class: "num" }, t.rows));
      })));
    });
  }

  function tensorPage(name, offset) {
    return api("tensors/" + encodeURIComponent(name), { offset: offset || 0 }).then(function (t) {
      var rollback = el("button", { id: "tensor-rollback", onclick: function () {
        api("tensors/" + encodeURIComponent(name) + "/rollback", {}, {}).then(function () { render(); }).catch(fail);
      } }, "Roll back to the previous version");
      var json = function (v) { return v === null || v === undefined ? "-" : el("pre", {}, JSON.stringify(v, null, 1)); };
      main.append(el("h2", {}, "Tensor ", el("code", {}, name)),
        el("section", {}, el("h3", {}, "Versions"), table(["Version", "Status", "Rows", "Created", "Note"], t.versions.map(function (v) {
          return el("tr", {}, el("td", { class: "num" }, v.version, v.version === t.active_version ? el("span", { class: "badge" }, "active") : null), el("td", {}, v.status), el("td", { class: "num" }, v.rows), el("td", {}, when(v.created_at)), el("td", {}, v.note));
        })), rollback),
        el("section", {}, el("h3", {}, "Training requests"), table(["Request", "Status", "Backend", "Version", "Gates", "Metrics", "Gate results", "Created"], t.requests.map(function (q) {
          return el("tr", {}, el("td", { class: "mono" }, q.id), el("td", {}, q.status, q.error ? el("div", { class: "error" }, q.error) : null), el("td", {}, q.backend), el("td", { class: "num" }, q.version === null ? "-" : q.version), el("td", {}, json(q.gates)), el("td", {}, json(q.metrics)), el("td", {}, json(q.gate_results)), el("td", {}, when(q.created_at)));
        }))),
        el("section", {}, el("h3", {}, "Rows of the active version (" + t.rows_total + ")"), table(["Id", "Key", "Value", "Strength", "Updated"], t.rows.items.map(function (r) {
          return el("tr", {}, el("td", { class: "num" }, r.id), el("td", { class: "mono" }, firstLine(r.key, 80)), el("td", { class: "mono" }, firstLine(r.value, 80)), el("td", {}, strength(r.strength)), el("td", {}, when(r.updated_at)));
        })), t.rows.next === null ? null : el("a", { href: "#tensor/" + encodeURIComponent(name) + "/" + t.rows.next }, "Next rows")));
    });
  }

  // ---- sessions ----------------------------------------------------------------------------------
  function sessionsPage() {
    return api("sessions").then(function (r) {
      main.append(el("h2", {}, "Sessions"), table(["Session", "Running", "Steps", "Last step", "Recording"], r.items.map(function (s) {
        return el("tr", { "data-session": s.name }, el("td", {}, el("a", { href: "#session/" + s.name }, s.name)), el("td", {}, s.running ? el("span", { class: "badge" }, "live") : "-"),
          el("td", { class: "num" }, s.steps), el("td", {}, when(s.last_step_at)), el("td", { class: "num" }, s.cast_bytes === null ? "-" : s.cast_bytes + " bytes"));
      })));
    });
  }

  function livePanel(name) {
    var box = el("div", { id: "live" });
    var state = el("div", { id: "live-state", class: "muted" }, "connecting\u2026");
    loadScript("/assets/xterm.js").then(function () {
      var ws = new WebSocket(withToken("/live", { session: name }).replace(/^/, (location.protocol === "https:" ? "wss://" : "ws://") + location.host));
      var term;
      ws.onmessage = function (ev) {
        if (!term) {
          var size = JSON.parse(ev.data);
          term = new window.Terminal({ cols: size.cols, rows: size.rows, disableStdin: true, cursorBlink: false, scrollback: 0 });
          term.open(box);
          state.textContent = "watching " + name + " read-only (" + size.cols + "x" + size.rows + ")";
          return;
        }
        term.write(ev.data);
      };
      ws.onclose = function (ev) { state.textContent = "not watching: " + (ev.reason || "the session ended"); };
      cleanup.push(function () { ws.close(); if (term) term.dispose(); });
    }).catch(fail);
    return el("section", {}, el("h3", {}, "Live (read-only)"), state, box);
  }

  function replayPanel(name) {
    var box = el("div", { id: "replay" });
    loadScript("/assets/asciinema-player.js").then(function () {
      var player = window.AsciinemaPlayer.create({ url: withToken("/api/sessions/" + name + "/cast") }, box, { autoPlay: true, idleTimeLimit: 0.5, speed: 2, fit: false, terminalFontSize: "13px" });
      cleanup.push(function () { player.dispose(); });
    }).catch(fail);
    return el("section", {}, el("h3", {}, "Replay of the recording"), box);
  }

  function stepsPanel(name) {
    var list = el("div", { id: "steps" });
    var more = el("button", { id: "steps-more" }, "Older steps");
    var next = 0;
    function load() {
      api("sessions/" + name + "/steps", { offset: next }).then(function (page) {
        page.items.forEach(function (s) {
          list.appendChild(el("div", { class: "step" }, el("div", {}, el("b", {}, "#" + s.seq), " ", el("span", { class: "muted" }, when(s.timestampMs)), " ", s.kind, " ", el("code", {}, JSON.stringify(s.payload))),
            s.screen === null ? null : el("pre", {}, s.screen)));
        });
        next = page.next;
        more.style.display = next === null ? "none" : "";
      }).catch(fail);
    }
    more.onclick = load;
    load();
    return el("section", {}, el("h3", {}, "Timeline: each step and the screen after it, newest first"), list, more);
  }

  function sessionPage(name) {
    return api("sessions/" + name).then(function (s) {
      main.append(el("h2", {}, "Session ", el("code", {}, name), " ", s.running ? el("span", { class: "badge" }, "live") : null),
        s.running ? livePanel(name) : null, s.cast ? replayPanel(name) : null, stepsPanel(name));
    });
  }

  function render() {
    cleanup.splice(0).forEach(function (f) { try { f(); } catch (e) { /* already gone */ } });
    main.textContent = "";
    var parts = location.hash.slice(1).split("/");
    var page = parts[0] || "fixes";
    var arg = decodeURIComponent(parts[1] || "");
    ["fixes", "tensors", "sessions"].forEach(function (n) { document.getElementById("nav-" + n).className = page.indexOf(n.slice(0, 3)) === 0 ? "on" : ""; });
    var shown = page === "fix" ? fixPage(arg) : page === "tensors" ? tensorsPage() : page === "tensor" ? tensorPage(arg, Number(parts[2] || 0))
      : page === "sessions" ? sessionsPage() : page === "session" ? sessionPage(arg) : fixesPage();
    Promise.resolve(shown).catch(fail);
  }
  window.addEventListener("hashchange", render);
  render();
})();
`;
