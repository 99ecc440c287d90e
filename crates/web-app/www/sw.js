// The service worker: keeps the app's shell for offline start (the core always needs the
// server for anything it does), and shows Web Push notifications.
const CACHE = "splitid-app-v1";
const SHELL = [
  "./", "index.html", "app.js", "app.css", "worker.js", "manifest.webmanifest",
  "icon-192.png", "icon-512.png", "i18n/en.json", "i18n/et.json",
  "pkg/splitid_web_app.js", "pkg/splitid_web_app_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

// The shell from the network when it answers (so an update arrives), else from the cache.
// Only the shell's own files: the app API (/app/v1/) and everything else go straight to the
// network, untouched and never cached.
const SHELL_PATHS = new Set(SHELL.map((path) => new URL(path, self.location).pathname));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin
      || !SHELL_PATHS.has(url.pathname)) {
    return;
  }
  event.respondWith(fetch(event.request)
    .then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
      }
      return response;
    })
    .catch(() => caches.match(event.request, { ignoreSearch: true })));
});
