/* Kuangjiang 矿匠 — the online exam on a phone (issue 16).
   One question per screen, a navigator, flags, a countdown from the server's deadline (the server's clock is the
   truth: the page offsets by the server's "now"), every answer POSTed as given and kept in localStorage until the
   server acknowledges it, resent when the network is back. Every string comes from the page (data-strings). */
(function () {
  "use strict";

  var app = document.getElementById("exam-app");
  if (!app) { return; }
  var T = JSON.parse(app.getAttribute("data-strings") || "{}");
  var urls = {
    state: app.getAttribute("data-state-url"),
    answer: app.getAttribute("data-answer-url"),
    submit: app.getAttribute("data-submit-url"),
    result: app.getAttribute("data-result-url")
  };
  var storeKey = "kj-exam-" + app.getAttribute("data-attempt");
  var csrf = (app.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  var els = {
    question: document.getElementById("exam-question"),
    nav: document.getElementById("exam-navigator"),
    remaining: document.getElementById("exam-remaining"),
    net: document.getElementById("exam-net"),
    prev: document.getElementById("exam-prev"),
    next: document.getElementById("exam-next"),
    flag: document.getElementById("exam-flag"),
    form: document.getElementById("exam-submit-form"),
    note: document.getElementById("exam-submit-note")
  };

  var questions = [];
  var byOrder = {};
  var current = 0;
  var offset = 0;        // server time minus this device's time, in ms
  var deadline = 0;      // ms, server clock
  var ended = false;
  var submitting = false;
  var retryTimer = null;
  var inFlight = {};

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  var store = load();
  store.answers = store.answers || {};
  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(store)); } catch (e) { /* full or private mode */ }
  }

  function entry(order) { return store.answers[String(order)]; }
  function unsentCount() {
    var n = 0;
    Object.keys(store.answers).forEach(function (k) { if (!store.answers[k].sent) { n += 1; } });
    return n;
  }

  function setNet(online) {
    els.net.textContent = online ? T.online : T.offline;
    els.net.className = "exam-net " + (online ? "is-online" : "is-offline");
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function answerOf(q) {
    var e = entry(q.order);
    return e ? e.answer : q.answer;
  }
  function flaggedOf(q) {
    var e = entry(q.order);
    return e ? e.flagged : q.flagged;
  }

  function renderNav() {
    els.nav.textContent = "";
    questions.forEach(function (q, i) {
      var li = el("li");
      var b = el("button", "nav-item", String(q.order));
      b.type = "button";
      var e = entry(q.order);
      if (answerOf(q)) { b.classList.add("is-answered"); }
      if (flaggedOf(q)) { b.classList.add("is-flagged"); }
      if (e && !e.sent) { b.classList.add("is-unsent"); }
      if (i === current) { b.classList.add("is-current"); b.setAttribute("aria-current", "step"); }
      var words = [fmt(T.question, { n: q.order, total: questions.length })];
      if (answerOf(q)) { words.push(T.answered); }
      if (flaggedOf(q)) { words.push(T.flagged); }
      if (e && !e.sent) { words.push(T.unsaved); }
      b.setAttribute("aria-label", words.join(", "));
      b.addEventListener("click", function () { show(i); });
      li.appendChild(b);
      els.nav.appendChild(li);
    });
    var n = unsentCount();
    els.note.textContent = n ? fmt(T.unsent, { n: n }) : "";
  }

  function choiceInput(q, type, value, label, text, checked) {
    var wrap = el("label", "exam-option");
    var input = document.createElement("input");
    input.type = type;
    input.name = "q" + q.order;
    input.value = value;
    input.checked = checked;
    input.addEventListener("change", function () { answerChanged(q); });
    wrap.appendChild(input);
    if (label) { wrap.appendChild(el("span", "exam-option__label", label + ".")); }
    wrap.appendChild(el("span", "exam-option__text", text));
    return wrap;
  }

  function show(i) {
    if (!questions.length) { return; }
    current = Math.max(0, Math.min(i, questions.length - 1));
    store.current = current;
    save();
    var q = questions[current];
    var box = els.question;
    box.textContent = "";
    box.appendChild(el("p", "exam-count muted", fmt(T.question, { n: q.order, total: questions.length }) + " · " + fmt(T.marks, { n: q.marks })));
    var stem = el("p", "exam-stem", q.stem);
    box.appendChild(stem);
    (q.images || []).forEach(function (src) {
      var img = document.createElement("img");
      img.src = src; img.alt = ""; img.className = "exam-image";
      box.appendChild(img);
    });
    var given = answerOf(q) || "";
    var field = el("fieldset", "exam-options");
    var legend = el("legend", "visually-hidden", fmt(T.question, { n: q.order, total: questions.length }));
    field.appendChild(legend);
    if (q.kind === "single" || q.kind === "multiple") {
      q.options.forEach(function (o) {
        var row = choiceInput(q, q.kind === "single" ? "radio" : "checkbox", o.key, o.label, o.text, given.indexOf(o.key) >= 0);
        if (o.image) {
          var img = document.createElement("img");
          img.src = o.image; img.alt = ""; img.className = "exam-image";
          row.appendChild(img);
        }
        field.appendChild(row);
      });
    } else if (q.kind === "true_false") {
      field.appendChild(choiceInput(q, "radio", "T", "", T["true"], given === "T"));
      field.appendChild(choiceInput(q, "radio", "F", "", T["false"], given === "F"));
    } else {
      var label = el("label", "exam-fill");
      label.appendChild(el("span", "", T.fill));
      var input = document.createElement("input");
      input.type = "text"; input.name = "q" + q.order; input.value = given; input.maxLength = 500;
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { answerChanged(q); }, 700);
      });
      input.addEventListener("change", function () { window.clearTimeout(timer); answerChanged(q); });
      label.appendChild(input);
      field.appendChild(label);
    }
    box.appendChild(field);
    els.prev.disabled = current === 0;
    els.next.disabled = current === questions.length - 1;
    var flagged = !!flaggedOf(q);
    els.flag.setAttribute("aria-pressed", flagged ? "true" : "false");
    els.flag.textContent = flagged ? T.flagged : T.flag;
    renderNav();
  }

  function readAnswer(q) {
    var inputs = els.question.querySelectorAll("[name=q" + q.order + "]");
    if (q.kind === "fill") { return inputs.length ? inputs[0].value : ""; }
    var keys = [];
    Array.prototype.forEach.call(inputs, function (i) { if (i.checked) { keys.push(i.value); } });
    return keys.sort().join("");
  }

  function nextSeq(q) {
    var e = entry(q.order);
    return Math.max(e ? e.seq : 0, q.seq || 0) + 1;
  }

  function record(q, answer, flagged) {
    if (ended) { return; }
    store.answers[String(q.order)] = { answer: answer, flagged: flagged, seq: nextSeq(q), sent: false };
    save();
    renderNav();
    send(q.order);
  }

  function answerChanged(q) { record(q, readAnswer(q), !!flaggedOf(q)); }

  // Saves go one at a time, in the order given: never two requests of this page in flight at once.
  var queueTail = Promise.resolve();
  function send(order) {
    var next = queueTail.then(function () { return sendNow(order); });
    queueTail = next.catch(function () {});
    return next;
  }

  function sendNow(order) {
    var e = entry(order);
    if (!e || e.sent || ended || inFlight[order]) { return Promise.resolve(); }
    var seq = e.seq;
    inFlight[order] = true;
    return window.fetch(urls.answer, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ order: order, answer: e.answer, seq: seq, flagged: e.flagged })
    }).then(function (response) {
      inFlight[order] = false;
      if (response.status === 409) { timeUp(T.refused); return; }
      if (response.status === 400 || response.status === 404) {
        // The server will never take this save (a malformed answer): drop it rather than retry for ever.
        delete store.answers[String(order)];
        save();
        renderNav();
        return;
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json().then(function (body) {
        var now = entry(order);
        if (now && body.seq >= now.seq) { now.sent = true; byOrder[order].seq = body.seq; save(); }
        setNet(true);
        renderNav();
        if (entry(order) && !entry(order).sent) { send(order); }
      });
    }).catch(function () {
      inFlight[order] = false;
      setNet(false);
      renderNav();
      scheduleRetry();
    });
  }

  function flush() {
    // send() queues: a phone back on a weak network sends its kept answers one after another, not as a burst.
    var orders = Object.keys(store.answers).filter(function (k) { return !store.answers[k].sent; });
    return Promise.all(orders.map(function (k) { return send(Number(k)); }));
  }

  function scheduleRetry() {
    if (retryTimer || ended) { return; }
    retryTimer = window.setTimeout(function () { retryTimer = null; if (unsentCount()) { flush(); } }, 4000);
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - (Date.now() + offset)) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    els.remaining.textContent = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
    els.remaining.parentNode.classList.toggle("is-short", left <= 300);
    if (left <= 0 && !ended) { timeUp(T.timeup); }
  }

  function finish() {
    submitting = true;
    return window.fetch(urls.submit, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: "{}"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
      window.location.assign(urls.result);
    }).catch(function () {
      submitting = false;
      els.note.textContent = T.failed;
      window.setTimeout(function () { if (!submitting) { finish(); } }, 5000);
    });
  }

  function timeUp(message) {
    if (ended) { return; }
    ended = true;
    els.note.textContent = message;
    app.classList.add("is-ended");
    // Last chance for what the phone still holds, then the submission (the server closes it at the deadline anyway).
    finish();
  }

  els.prev.addEventListener("click", function () { show(current - 1); });
  els.next.addEventListener("click", function () { show(current + 1); });
  els.flag.addEventListener("click", function () {
    var q = questions[current];
    if (!q) { return; }
    record(q, answerOf(q) || "", !flaggedOf(q));
    show(current);
  });
  els.form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submitting || ended) { return; }
    flush().then(function () {
      var words = [T.confirm];
      var blank = questions.filter(function (q) { return !answerOf(q); }).length;
      if (blank) { words.push(fmt(T.unanswered, { n: blank })); }
      var unsent = unsentCount();
      if (unsent) { words.push(fmt(T.unsent, { n: unsent })); }
      if (unsent) { window.alert(words.slice(1).join("\n")); return; }
      if (window.confirm(words.join("\n"))) { ended = true; finish(); }
    });
  });
  window.addEventListener("online", function () { setNet(true); flush(); });
  window.addEventListener("offline", function () { setNet(false); });

  function start(state) {
    offset = Date.parse(state.now) - Date.now();
    deadline = Date.parse(state.deadline);
    questions = state.questions;
    questions.forEach(function (q) {
      byOrder[q.order] = q;
      var e = entry(q.order);
      // The server holds a later save than this phone (another tab, or sent before a reload): it wins.
      if (e && e.seq <= q.seq) { delete store.answers[String(q.order)]; }
    });
    save();
    if (state.ended) { window.location.assign(urls.result); return; }
    show(store.current || 0);
    setNet(navigator.onLine !== false);
    tick();
    window.setInterval(tick, 1000);
    flush();
  }

  function fetchState() {
    window.fetch(urls.state, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(start)
      .catch(function () { setNet(false); window.setTimeout(fetchState, 3000); });
  }
  fetchState();
}());
