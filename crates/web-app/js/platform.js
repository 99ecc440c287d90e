// The browser's side of the device core's ports (crates/web-app/src/browser.rs): the vault
// in IndexedDB behind a Web Lock, HTTP with fetch, and a timer. Runs in the app's worker.
// Nothing here sees a PIN or a key share in clear: the vault holds the sealed shares only.

const DATABASE = "splitid";
const STORE = "vault";
const KEY = "vault";
const LOCK = "splitid-vault";

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let database = null;
async function db() {
  database ??= await openDatabase();
  return database;
}

/** The vault's JSON text, or null before the first save. */
export async function vaultLoad() {
  const store = (await db()).transaction(STORE, "readonly").objectStore(STORE);
  return new Promise((resolve, reject) => {
    const request = store.get(KEY);
    request.onsuccess = () => resolve(request.result ?? null);
    request.onerror = () => reject(request.error);
  });
}

/** Replaces the vault; resolves once the transaction is durably committed. */
export async function vaultSave(text) {
  const transaction = (await db()).transaction(STORE, "readwrite", { durability: "strict" });
  transaction.objectStore(STORE).put(text, KEY);
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("the vault write was aborted"));
  });
}

/** Takes the vault's exclusive lock (shared by every tab and worker of this origin);
 *  resolves with the function that releases it. */
export function vaultLock() {
  return new Promise((granted, refused) => {
    navigator.locks
      .request(LOCK, () => new Promise((release) => granted(release)))
      .catch(refused);
  });
}

/** One HTTP exchange: {status, body}, or a thrown error when no answer came. */
export async function httpSend(method, url, headers, body) {
  const init = { method, headers: new Headers(headers), cache: "no-store", credentials: "omit" };
  if (body.length > 0) {
    init.headers.set("Content-Type", "application/json");
    init.body = body;
  }
  const response = await fetch(url, init);
  return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
}

export function nowMillis() {
  return Date.now();
}

export function pause(millis) {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
