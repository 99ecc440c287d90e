// The service worker: keeps the app's shell for offline start (the core always needs the
// server for anything it does), and shows Web Push notifications.
const CACHE = "splitid-app-v2";
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

// --- Web Push -----------------------------------------------------------------------------
// A push says only which kind of request waits and for which e-service (docs/app-api.md);
// the notification is written here, in the phone's language, and tapping it opens the app,
// which fetches the transaction itself over its authenticated channel.

// The languages the app has: the i18n files of its shell (cached when it was installed).
const LANGUAGES = SHELL.filter((path) => path.startsWith("i18n/"))
  .map((path) => path.slice("i18n/".length, -".json".length));

async function languageFile(code) {
  const path = `i18n/${code}.json`;
  const response = await caches.match(path) || await fetch(path);
  return response.ok ? response.json() : {};
}

// English, overlaid with the phone's first language the app has. Never fails: a push must
// always end in a notification (browsers withdraw subscriptions that push silently).
async function strings() {
  try {
    const wanted = (self.navigator.languages || [self.navigator.language || "en"])
      .map((tag) => tag.toLowerCase().split("-")[0]);
    const language = wanted.find((code) => LANGUAGES.includes(code)) || "en";
    const english = await languageFile("en");
    return language === "en" ? english : { ...english, ...await languageFile(language) };
  } catch {
    return {};
  }
}

const TITLES = {
  authentication: "tx.login", signature: "tx.sign", certificate_choice: "tx.certificate",
};

async function appWindows() {
  const scope = new URL("./", self.location).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  return windows.filter((client) => client.url.startsWith(scope));
}

async function notify(data) {
  let message = {};
  try { message = data ? data.json() : {}; } catch { /* shown as a request without details */ }
  const text = await strings();
  const rp = String(message.relyingPartyName || "");
  // A function as the replacement: a "$" in the name stays as it is.
  const title = (text[TITLES[message.kind]] || text["push.generic"] || "SplitID")
    .replace("{rp}", () => rp);
  // An open app checks at once; the notification is shown anyway (browsers want one per push).
  (await appWindows()).forEach((client) => client.postMessage({ type: "transaction" }));
  await self.registration.showNotification(title, {
    body: text["push.body"] || "", tag: "splitid-transaction", renotify: true,
    icon: "icon-192.png",
  });
}

// A tap on the notification: an open app is told first (so that it shows the transaction even
// where the browser refuses to focus it), then brought to the front; a closed one is opened,
// and finds the transaction when it starts.
async function openApp() {
  const [open] = await appWindows();
  if (open) {
    open.postMessage({ type: "notification-tapped" });
    await open.focus();
  } else {
    await self.clients.openWindow("./");
  }
}

self.addEventListener("push", (event) => event.waitUntil(notify(event.data)));
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openApp());
});
