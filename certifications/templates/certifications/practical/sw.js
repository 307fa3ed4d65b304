/* Kuangjiang's scoring tablet: the service worker. It keeps the app shell (the page, its styles and script) so
   the page opens with no network; the sheets themselves live in IndexedDB (practical.js). */
"use strict";
var CACHE = {{ cache_name|safe }};
var SHELL = {{ shell_json|safe }};
var DATA = {{ data_url|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key || request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key || request, {ignoreSearch: true});
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === SHELL[0]) {
    event.respondWith(networkFirst(request, SHELL[0]));
  } else if (url.pathname === DATA) {
    event.respondWith(networkFirst(request));
  } else if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  }
});
