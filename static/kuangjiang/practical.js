/* Kuangjiang 矿匠 — the assessor's scoring tablet (实操评分表). Works offline: the service worker keeps the page,
   IndexedDB keeps the assessor's sittings, rosters, schemes and the sheets recorded here; sheets are sent to the
   server with their own id, so sending again never duplicates, and a sheet changed on the server meanwhile is shown
   as a conflict for the assessor to settle — never overwritten. The server decides the outcome
   (certifications/practical/rules.py); the live total here is the same rule, for the screen only.
   No inline script, no external request (the Content-Security-Policy allows our own files only). */
(function () {
  "use strict";

  var root = document.getElementById("tablet");
  if (!root) { return; }
  var URLS = JSON.parse(root.dataset.urls);
  var T = JSON.parse(root.dataset.strings);
  var PRESET = JSON.parse(root.dataset.preset || "{}");
  var USER = parseInt(root.dataset.user, 10);
  var $ = function (id) { return document.getElementById(id); };

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key] === undefined ? "" : values[key]; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else if (key === "hidden") { node.hidden = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- decimals as whole tenths, so the live total adds up exactly as the server's Decimal does ---------------
  function tenths(text) { return Math.round(parseFloat(text || "0") * 10); }
  function show(t) { return (t / 10).toFixed(1).replace(/\.0$/, ""); }

  function outcome(scheme, sitting, sheet) {
    var full = 0, off = 0, per = {};
    scheme.items.forEach(function (item) {
      if (item.critical) { return; }
      var points = tenths(item.points);
      full += points;
      var mark = sheet.marks[item.id] || {};
      var raw = tenths(item.per_mistake) * (mark.mistakes || 0) + tenths(item.per_minute_over) * (mark.minutes_over || 0);
      per[item.id] = Math.min(Math.max(raw, 0), points);
      off += per[item.id];
    });
    var total = Math.max(0, full - off);
    var marks = tenths(sitting.full_marks);
    var critical = sheet.critical_item ? scheme.items.filter(function (i) { return i.id === sheet.critical_item; })[0] : null;
    var score = critical ? 0 : (full > 0 ? Math.min(marks, Math.round(total * marks / full)) : 0);
    var passed = !critical && full > 0 && score >= tenths(sitting.pass_mark);
    return {per: per, full: full, total: total, score: score, marks: marks, passed: passed, critical: critical};
  }

  // --- IndexedDB: "state" holds the tablet data (per login), "sheets" the sheets recorded here ----------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open("kuangjiang-tablet", 1);
    open.onupgradeneeded = function () {
      open.result.createObjectStore("state");
      open.result.createObjectStore("sheets", {keyPath: "uuid"});
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
  function store(name, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var request = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(request && request.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  var stateKey = "data-" + USER;
  function dataGet() { return store("state", "readonly", function (s) { return s.get(stateKey); }); }
  function dataPut(value) { return store("state", "readwrite", function (s) { return s.put(value, stateKey); }); }
  function sheetsAll() {
    return store("sheets", "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (sheet) { return sheet.user === USER; });
    });
  }
  function sheetPut(sheet) { return store("sheets", "readwrite", function (s) { return s.put(sheet); }); }

  // --- state -----------------------------------------------------------------------------------------------
  var data = null;  // {sittings, schemes, sheets}
  var current = null;  // the sheet being scored
  var timerTick = null;

  function sittingById(id) { return (data.sittings || []).filter(function (s) { return s.id === id; })[0]; }
  function schemeById(id) { return (data.schemes || []).filter(function (s) { return s.id === id; })[0]; }
  function candidateOf(sitting, employeeNo) {
    return sitting.candidates.filter(function (c) { return c.employee_no === employeeNo; })[0];
  }

  function loadData() {
    return fetch(URLS.data, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("offline"); }
        return response.json();
      })
      .then(function (fresh) { return dataPut(fresh).then(function () { return fresh; }); })
      .catch(function () { return dataGet(); })
      .then(function (found) {
        data = found || {sittings: [], schemes: [], sheets: []};
        fillPickers();
        if (!found) { $("sync-state").textContent = T.noData; }
      });
  }

  // --- picking the sitting and candidate ------------------------------------------------------------------
  function fillPickers() {
    var sittings = $("pick-sitting");
    sittings.textContent = "";
    sittings.appendChild(el("option", {value: "", text: T.pickSitting}));
    data.sittings.forEach(function (s) {
      sittings.appendChild(el("option", {value: String(s.id), text: s.code + " " + s.name + (s.on ? " · " + s.on : "")}));
    });
    if (PRESET.sitting) { sittings.value = PRESET.sitting; }
    else if (data.sittings.length === 1) { sittings.value = String(data.sittings[0].id); }
    fillCandidates();
    if (PRESET.worker) { $("pick-code").value = PRESET.worker; }
  }
  function fillCandidates() {
    var select = $("pick-candidate");
    select.textContent = "";
    select.appendChild(el("option", {value: "", text: T.pickCandidate}));
    var sitting = sittingById(parseInt($("pick-sitting").value, 10));
    (sitting ? sitting.candidates : []).forEach(function (c) {
      select.appendChild(el("option", {value: c.employee_no, text: c.name + " · " + c.employee_no + (c.unit ? " · " + c.unit : "")}));
    });
  }
  function pickError(text) { var p = $("pick-error"); p.textContent = text || ""; p.hidden = !text; }

  function startFromPick() {
    pickError("");
    var code = $("pick-code").value.trim();
    var sitting = sittingById(parseInt($("pick-sitting").value, 10));
    var employeeNo = $("pick-candidate").value;
    if (code) {
      // The candidate's code from their page: in the chosen sitting, else in any of this assessor's sittings.
      var places = data.sittings.filter(function (s) { return candidateOf(s, code); });
      sitting = (sitting && candidateOf(sitting, code)) ? sitting : places[0];
      employeeNo = code;
      if (!sitting) { pickError(T.unknownCode); return; }
    }
    if (!sitting || !employeeNo) { pickError(T.pickCandidate); return; }
    if (!sitting.scheme || !schemeById(sitting.scheme)) { pickError(T.noScheme); return; }
    openSheet({
      uuid: uuid4(), user: USER, sitting: sitting.id, worker: employeeNo, scheme: sitting.scheme,
      base_version: null, state: "draft", marks: {}, critical_item: null, critical_note: "",
      started_at: null, stopped_at: null, candidate_name: "", candidate_signature: "", assessor_signature: "",
      confirmed_at: null, server: null
    });
  }

  // --- the sheet --------------------------------------------------------------------------------------------
  function openSheet(sheet) {
    current = sheet;
    var sitting = sittingById(sheet.sitting);
    var scheme = schemeById(sheet.scheme);
    if (!sitting || !scheme) { pickError(T.noData); return; }
    var candidate = candidateOf(sitting, sheet.worker) || {name: sheet.worker, employee_no: sheet.worker};
    $("sheet-heading").textContent = candidate.name + " · " + candidate.employee_no;
    $("sheet-meta").textContent = sitting.code + " " + sitting.name + " · " + scheme.name;
    $("timer-limit").textContent = scheme.time_limit_minutes ? fmt(T.timeLimit, {n: scheme.time_limit_minutes}) : "";
    var list = $("items");
    list.textContent = "";
    scheme.items.filter(function (i) { return !i.critical; }).forEach(function (item) { list.appendChild(itemRow(item)); });
    var critical = $("critical-list");
    critical.textContent = "";
    critical.appendChild(criticalChoice(null, T.none));
    scheme.items.filter(function (i) { return i.critical; }).forEach(function (item) {
      critical.appendChild(criticalChoice(item.id, item.name));
    });
    $("critical-note").value = sheet.critical_note || "";
    $("candidate-name").value = sheet.candidate_name || "";
    pads.candidate.load(sheet.candidate_signature);
    pads.assessor.load(sheet.assessor_signature);
    $("sheet-message").textContent = "";
    $("sheet").hidden = false;
    refresh();
    $("sheet-heading").scrollIntoView({block: "start"});
  }

  function itemRow(item) {
    var mark = current.marks[item.id] || (current.marks[item.id] = {mistakes: 0, minutes_over: 0, note: "", photo: ""});
    var count = el("output", {className: "count", "data-count": item.id, text: String(mark.mistakes)});
    var minus = el("button", {type: "button", className: "button button--primary tap", text: T.mistake});
    var undo = el("button", {type: "button", className: "button tap", text: T.undo});
    minus.addEventListener("click", function () { mark.mistakes = Math.min(999, mark.mistakes + 1); refresh(); });
    undo.addEventListener("click", function () { mark.mistakes = Math.max(0, mark.mistakes - 1); refresh(); });
    var minutes = el("input", {type: "number", min: "0", max: "1440", inputmode: "numeric", value: String(mark.minutes_over || 0)});
    minutes.addEventListener("input", function () {
      mark.minutes_over = Math.max(0, Math.min(1440, parseInt(minutes.value, 10) || 0)); mark.minutesTyped = true; refresh();
    });
    var note = el("input", {type: "text", maxlength: "500", value: mark.note || ""});
    note.addEventListener("input", function () { mark.note = note.value; });
    var photo = el("input", {type: "file", accept: "image/*", capture: "environment"});
    var kept = el("span", {className: "muted", text: mark.photo ? T.photoKept : ""});
    photo.addEventListener("change", function () {
      if (photo.files && photo.files[0]) {
        shrink(photo.files[0]).then(function (url) { mark.photo = url; kept.textContent = T.photoKept; });
      }
    });
    var rules = [fmt(T.points, {n: show(tenths(item.points))})];
    if (tenths(item.per_mistake)) { rules.push(fmt(T.perMistake, {n: show(tenths(item.per_mistake))})); }
    if (tenths(item.per_minute_over)) { rules.push(fmt(T.perMinute, {n: show(tenths(item.per_minute_over))})); }
    var children = [
      el("div", {className: "item-head"}, [
        el("strong", {text: item.name}),
        el("span", {className: "item-off", "data-off": item.id})
      ]),
      item.content ? el("p", {className: "muted", text: item.content}) : null,
      el("p", {className: "muted", text: rules.join(" · ") + (item.criteria ? " — " + item.criteria : "")}),
      el("div", {className: "taps"}, [minus, undo, count, el("span", {className: "muted", text: T.mistakes})])
    ];
    if (tenths(item.per_minute_over)) {
      children.push(el("label", {text: T.minutesOver}, [minutes]));
    }
    children.push(el("label", {text: T.note}, [note]));
    children.push(el("label", {text: T.photo}, [photo, kept]));
    return el("li", {className: "item", "data-item": item.id}, children);
  }

  function criticalChoice(id, label) {
    var input = el("input", {type: "radio", name: "critical-item", value: id === null ? "" : String(id)});
    input.checked = (current.critical_item || null) === id;
    input.addEventListener("change", function () { current.critical_item = id; refresh(); });
    return el("label", {className: "choice"}, [input, document.createTextNode(" " + label)]);
  }

  function refresh() {
    var scheme = schemeById(current.scheme), sitting = sittingById(current.sitting);
    var result = outcome(scheme, sitting, current);
    Object.keys(result.per).forEach(function (id) {
      var off = document.querySelector('[data-off="' + id + '"]');
      if (off) { off.textContent = result.per[id] ? fmt(T.off, {n: show(result.per[id])}) : ""; }
      var count = document.querySelector('[data-count="' + id + '"]');
      if (count) { count.textContent = String((current.marks[id] || {}).mistakes || 0); }
    });
    $("total").textContent = fmt(T.total, {total: show(result.total), full: show(result.full), score: show(result.score), marks: show(result.marks)});
    var verdict = $("verdict");
    verdict.textContent = result.critical ? fmt(T.failedCritical, {item: result.critical.name}) : (result.passed ? T.passed : T.failed);
    verdict.className = "verdict " + (result.passed ? "verdict--passed" : "verdict--failed");
    timerShow();
  }

  // --- the timer ------------------------------------------------------------------------------------------
  function timerShow() {
    var start = current.started_at ? Date.parse(current.started_at) : null;
    var end = current.stopped_at ? Date.parse(current.stopped_at) : Date.now();
    var seconds = start ? Math.max(0, Math.floor((end - start) / 1000)) : 0;
    $("timer-clock").textContent = String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0");
    $("timer-toggle").textContent = current.started_at && !current.stopped_at ? T.timerStop : T.timerStart;
  }
  function timerToggle() {
    if (!current.started_at || current.stopped_at) {
      current.started_at = new Date().toISOString();
      current.stopped_at = null;
      clearInterval(timerTick);
      timerTick = setInterval(timerShow, 1000);
    } else {
      current.stopped_at = new Date().toISOString();
      clearInterval(timerTick);
      var scheme = schemeById(current.scheme);
      if (scheme.time_limit_minutes) {
        // Minutes over the scheme's limit go to the items that deduct per minute (unless typed by hand).
        var used = Math.ceil((Date.parse(current.stopped_at) - Date.parse(current.started_at)) / 60000);
        var over = Math.max(0, used - scheme.time_limit_minutes);
        scheme.items.forEach(function (item) {
          var mark = current.marks[item.id];
          if (mark && tenths(item.per_minute_over) && !item.time_limit_minutes && !mark.minutesTyped) {
            mark.minutes_over = over;
            var input = document.querySelector('[data-item="' + item.id + '"] input[type="number"]');
            if (input) { input.value = String(over); }
          }
        });
      }
    }
    refresh();
  }

  // --- photos (shrunk on the tablet) and signatures (drawn on a canvas) -----------------------------------
  function shrink(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, 1280 / Math.max(bitmap.width, bitmap.height));
      var canvas = el("canvas", {width: String(Math.round(bitmap.width * scale)), height: String(Math.round(bitmap.height * scale))});
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.7);
    });
  }
  function Pad(canvas) {
    var ctx = canvas.getContext("2d"), drawing = false, self = this;
    this.drawn = false;
    function at(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; canvas.setPointerCapture(event.pointerId);
      var p = at(event); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = at(event); ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#1b1f24";
      ctx.lineTo(p[0], p[1]); ctx.stroke(); self.drawn = true;
    });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    this.clear = function () { ctx.clearRect(0, 0, canvas.width, canvas.height); self.drawn = false; };
    this.value = function () { return self.drawn ? canvas.toDataURL("image/png") : ""; };
    this.load = function (url) {
      self.clear();
      if (!url) { return; }
      // Drawn back through a bitmap: the Content-Security-Policy allows no data: image element.
      fetchBlob(url).then(createImageBitmap).then(function (bitmap) {
        ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height); self.drawn = true;
      }).catch(function () {});
    };
  }
  function fetchBlob(dataUrl) {
    var parts = dataUrl.split(","), bytes = atob(parts[1]), buffer = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { buffer[i] = bytes.charCodeAt(i); }
    return Promise.resolve(new Blob([buffer], {type: parts[0].slice(5).split(";")[0]}));
  }
  var pads = {candidate: new Pad($("candidate-signature")), assessor: new Pad($("assessor-signature"))};

  // --- saving on the tablet, and sending --------------------------------------------------------------------
  function saveSheet() {
    current.critical_note = $("critical-note").value.trim();
    current.candidate_name = $("candidate-name").value.trim();
    current.candidate_signature = pads.candidate.value();
    current.assessor_signature = pads.assessor.value();
    if (!current.candidate_name && !current.candidate_signature) {
      $("sheet-message").textContent = T.needConfirm;
      return;
    }
    current.confirmed_at = current.confirmed_at || new Date().toISOString();
    if (current.started_at && !current.stopped_at) { current.stopped_at = new Date().toISOString(); clearInterval(timerTick); }
    var scheme = schemeById(current.scheme), sitting = sittingById(current.sitting);
    var result = outcome(scheme, sitting, current);
    current.total = show(result.total);
    current.full = show(result.full);
    current.passed = result.passed;
    current.critical_name = result.critical ? result.critical.name : "";
    current.state = "pending";
    var saved = current;
    sheetPut(JSON.parse(JSON.stringify(saved))).then(function () {
      $("sheet-message").textContent = T.saved;
      closeSheet();
      renderList();
      sync();
    });
  }
  function closeSheet() { current = null; clearInterval(timerTick); $("sheet").hidden = true; }

  function payload(sheet) {
    var marks = Object.keys(sheet.marks).map(function (id) {
      var m = sheet.marks[id];
      return {item: parseInt(id, 10), mistakes: m.mistakes || 0, minutes_over: m.minutes_over || 0, note: m.note || "", photo: m.photo || ""};
    }).filter(function (m) { return m.mistakes || m.minutes_over || m.note || m.photo; });
    return {
      uuid: sheet.uuid, sitting: sheet.sitting, worker: sheet.worker, base_version: sheet.base_version,
      started_at: sheet.started_at, stopped_at: sheet.stopped_at, critical_item: sheet.critical_item,
      critical_note: sheet.critical_note, marks: marks, candidate_name: sheet.candidate_name,
      candidate_signature: sheet.candidate_signature, assessor_signature: sheet.assessor_signature,
      confirmed_at: sheet.confirmed_at
    };
  }
  function csrf() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  var syncing = null;
  function sync() {
    if (syncing) { return syncing; }
    syncing = sheetsAll().then(function (sheets) {
      var waiting = sheets.filter(function (s) { return s.state === "pending"; });
      if (!waiting.length) { return 0; }
      $("sync-state").textContent = T.syncing;
      var sent = 0;
      return waiting.reduce(function (chain, sheet) {
        return chain.then(function () {
          return fetch(URLS.sync, {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json"},
            body: JSON.stringify(payload(sheet))
          }).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (body) {
              if (response.status === 200 || response.status === 201) {
                sheet.state = "synced"; sheet.base_version = body.sheet.version; sheet.server = body.sheet; sheet.error = "";
                sent += 1;
              } else if (response.status === 409) {
                sheet.state = "conflict"; sheet.server = body.sheet;
              } else if (response.status >= 400 && response.status < 500 && response.status !== 403) {
                sheet.state = "refused"; sheet.error = body.error || String(response.status);
              } else {
                throw new Error("server");
              }
              return sheetPut(sheet);
            });
          });
        });
      }, Promise.resolve()).then(function () { return sent; });
    }).then(function (sent) {
      if (sent) { $("sync-state").textContent = fmt(T.synced, {n: sent}); }
      return sent;
    }).catch(function () {
      $("sync-state").textContent = T.syncFailed;
    }).then(function (sent) {
      syncing = null;
      return renderList().then(function () { return sent; });
    });
    return syncing;
  }

  // --- the list of sheets on this tablet, with conflicts to settle --------------------------------------------
  function describe(sheet, copy) {
    var scheme = schemeById(sheet.scheme);
    var names = {};
    (scheme ? scheme.items : []).forEach(function (i) { names[i.id] = i.name; });
    var lines = [fmt(T.totalShort, {total: show(tenths(copy.total)), full: show(tenths(copy.full || copy.full_points))})];
    var critical = copy.critical_item ? (names[copy.critical_item] || copy.critical_item) : "";
    lines.push(critical ? fmt(T.failedCritical, {item: critical}) : (copy.passed ? T.passed : T.failed));
    var marks = Array.isArray(copy.marks) ? copy.marks : Object.keys(copy.marks || {}).map(function (id) {
      return Object.assign({item: parseInt(id, 10)}, copy.marks[id]);
    });
    marks.forEach(function (m) {
      if (m.mistakes || m.minutes_over) {
        lines.push((names[m.item] || m.item) + ": " + (m.mistakes || 0) + " " + T.mistakes + (m.minutes_over ? ", " + T.minutesOver + " " + m.minutes_over : ""));
      }
    });
    return el("ul", {}, lines.map(function (line) { return el("li", {text: line}); }));
  }

  function renderList() {
    return sheetsAll().then(function (sheets) {
      var list = $("sheet-list");
      list.textContent = "";
      sheets.sort(function (a, b) { return (b.confirmed_at || "").localeCompare(a.confirmed_at || ""); });
      var waiting = 0;
      sheets.forEach(function (sheet) {
        var sitting = data && sittingById(sheet.sitting);
        var candidate = (sitting && candidateOf(sitting, sheet.worker)) || {name: sheet.worker};
        var state = {pending: T.statePending, synced: T.stateSynced, conflict: T.stateConflict, refused: fmt(T.refused, {reason: sheet.error || ""})}[sheet.state] || sheet.state;
        if (sheet.state === "pending") { waiting += 1; }
        var verdict = sheet.critical_name ? fmt(T.failedCritical, {item: sheet.critical_name}) : (sheet.passed ? T.passed : T.failed);
        var server = sheet.server && sheet.state === "synced" ? " · " + (sheet.server.status === "moderation" ? T.moderation : T.recorded) : "";
        var item = el("li", {className: "sheet-row sheet-row--" + sheet.state, "data-sheet": sheet.uuid, "data-worker": sheet.worker}, [
          el("strong", {text: candidate.name + " · " + sheet.worker}),
          el("span", {text: " " + show(tenths(sheet.total)) + " / " + show(tenths(sheet.full)) + " · " + verdict + " · "}),
          el("span", {className: "sheet-state", text: state + server})
        ]);
        var edit = el("button", {type: "button", className: "button", text: T.edit});
        edit.addEventListener("click", function () { openSheet(JSON.parse(JSON.stringify(sheet))); });
        item.appendChild(edit);
        if (sheet.state === "conflict" && sheet.server) {
          var keep = el("button", {type: "button", className: "button", "data-action": "keep-server", text: T.keepServer});
          var mine = el("button", {type: "button", className: "button button--primary", "data-action": "send-mine", text: T.sendMine});
          keep.addEventListener("click", function () { settle(sheet, "server"); });
          mine.addEventListener("click", function () { settle(sheet, "mine"); });
          item.appendChild(el("div", {className: "conflict", role: "alert"}, [
            el("h3", {text: T.conflictTitle}),
            el("p", {text: T.conflictText}),
            el("div", {className: "conflict-copies"}, [
              el("div", {"data-copy": "server"}, [el("h4", {text: T.serverCopy}), describe(sheet, sheet.server)]),
              el("div", {"data-copy": "tablet"}, [el("h4", {text: T.tabletCopy}), describe(sheet, sheet)])
            ]),
            el("p", {}, [keep, document.createTextNode(" "), mine])
          ]));
        }
        list.appendChild(item);
      });
      $("sync-state").dataset.waiting = String(waiting);
      if (!syncing) { $("sync-state").textContent = waiting ? fmt(T.pending, {n: waiting}) : T.allSent; }
    });
  }

  function settle(sheet, choice) {
    var server = sheet.server;
    if (choice === "mine") {
      // A deliberate choice: this tablet's copy goes over the server's current version.
      sheet.base_version = server.version; sheet.state = "pending";
    } else {
      sheet.base_version = server.version; sheet.state = "synced";
      sheet.marks = {};
      server.marks.forEach(function (m) { sheet.marks[m.item] = {mistakes: m.mistakes, minutes_over: m.minutes_over, note: m.note, photo: ""}; });
      sheet.total = server.total; sheet.full = server.full_points; sheet.passed = server.passed;
      sheet.critical_item = server.critical_item; sheet.critical_note = server.critical_note;
      var scheme = schemeById(sheet.scheme);
      var item = scheme && scheme.items.filter(function (i) { return i.id === server.critical_item; })[0];
      sheet.critical_name = item ? item.name : "";
    }
    return sheetPut(sheet).then(renderList).then(function () { return choice === "mine" ? sync() : null; });
  }

  // --- network state ------------------------------------------------------------------------------------------
  function netShow() {
    var state = $("net-state");
    state.textContent = navigator.onLine ? T.online : T.offline;
    state.className = "meta " + (navigator.onLine ? "net--online" : "net--offline");
  }
  window.addEventListener("online", function () { netShow(); loadData().then(sync); });
  window.addEventListener("offline", netShow);

  $("pick-sitting").addEventListener("change", fillCandidates);
  $("pick-start").addEventListener("click", startFromPick);
  $("timer-toggle").addEventListener("click", timerToggle);
  $("sheet-save").addEventListener("click", saveSheet);
  $("sheet-close").addEventListener("click", closeSheet);
  $("sync-now").addEventListener("click", function () { sync(); });
  document.querySelectorAll("[data-clear]").forEach(function (button) {
    button.addEventListener("click", function () { pads[button.dataset.clear.replace("-signature", "")].clear(); });
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(URLS.sw, {scope: URLS.scope}).catch(function () {});
  }
  netShow();
  loadData().then(function () {
    renderList();
    if (PRESET.worker) { startFromPick(); }
    if (navigator.onLine) { sync(); }
  });
})();
