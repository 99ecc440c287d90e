// The page: screens for accounts, registration, a transaction and its result. Everything the
// device does happens in the core (worker.js → WebAssembly); this file only shows and asks.

// Languages: one file each in i18n/; add the file and its code here.
const LANGUAGES = ["en", "et"];
const $ = (id) => document.getElementById(id);
let strings = {};
let fallback = {};

function t(key, vars = {}) {
  const text = strings[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

async function loadLanguage() {
  const wanted = (navigator.languages || [navigator.language || "en"])
    .map((tag) => tag.toLowerCase().split("-")[0]);
  const language = wanted.find((code) => LANGUAGES.includes(code)) || "en";
  fallback = await (await fetch("i18n/en.json")).json();
  strings = language === "en" ? fallback : await (await fetch(`i18n/${language}.json`)).json();
  document.documentElement.lang = language;
  document.querySelectorAll("[data-t]").forEach((element) => {
    element.textContent = t(element.dataset.t);
  });
}

// --- the core, in its worker -------------------------------------------------------------
const worker = new Worker("worker.js", { type: "module" });
const waiting = new Map();
let nextId = 0;
worker.onmessage = ({ data: { id, value, error, progress } }) => {
  const call = waiting.get(id);
  if (progress !== undefined) { if (call.onProgress) call.onProgress(progress); return; }
  waiting.delete(id);
  if (error !== undefined) {
    let failure;
    try { failure = JSON.parse(error); } catch { failure = { kind: "internal", message: error }; }
    call.reject(failure);
  } else {
    call.resolve(value);
  }
};
function core(method, ...args) { return coreWithProgress(null, method, ...args); }
function coreWithProgress(onProgress, method, ...args) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, method, args });
  });
}
const coreJson = async (method, ...args) => JSON.parse(await core(method, ...args));

// --- screens -----------------------------------------------------------------------------
const VIEWS = ["accounts-view", "register-view", "transaction-view", "result-view", "scan-view"];
function show(view) {
  VIEWS.forEach((id) => { $(id).hidden = id !== view; });
  $("error").hidden = true;
  const heading = $(view).querySelector("h2");
  if (heading) { heading.tabIndex = -1; heading.focus(); }
}
function busy(on) { $("busy").textContent = on ? t("common.working") : ""; }
function showError(failure) {
  showProblem(failure.kind === "network"
    ? t("error.network") : t("error.other", { message: failure.message }));
}
function showProblem(text) {
  busy(false);
  $("error").textContent = text;
  $("error").hidden = false;
}
function formatTime(rfc3339) { return new Date(rfc3339).toLocaleString(document.documentElement.lang); }
function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// --- accounts ----------------------------------------------------------------------------
let accounts = [];
let accountsShown = Promise.resolve();

// The account list, then its screen. A check for transactions waits for it, so that the
// list never covers a transaction that arrived meanwhile.
function showAccounts() {
  accountsShown = renderAccounts();
  return accountsShown;
}

async function renderAccounts() {
  busy(true);
  try {
    accounts = await coreJson("accounts");
  } catch (failure) { showError(failure); return; }
  busy(false);
  const list = $("accounts");
  list.replaceChildren();
  if (accounts.length === 0) {
    showRegistration();
    return;
  }
  for (const account of accounts) list.append(accountCard(account));
  $("scan").hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  show("accounts-view");
  renderNotifyButton();
}

function accountCard(account) {
  const item = element("li", undefined, "card");
  item.append(element("h3", account.documentNumber));
  item.append(element("p", t("accounts.level", { level: account.level })));
  for (const [purpose, certificate] of [["authentication", account.authenticationCertificate],
                                        ["signing", account.signingCertificate]]) {
    item.append(element("p", t("accounts.certificate", {
      purpose: t(`purpose.${purpose}`),
      date: new Date(certificate.notAfter * 1000).toLocaleDateString(document.documentElement.lang),
      days: certificate.daysLeft,
    }), "muted"));
  }
  const days = Math.min(account.authenticationCertificate.daysLeft, account.signingCertificate.daysLeft);
  if (days < 0) item.append(element("p", t("accounts.expired"), "warning"));
  else if (days <= 30) item.append(element("p", t("accounts.renew", { days }), "warning"));
  if (account.warning) item.append(element("p", account.warning, "warning"));
  const locks = element("ul", undefined, "locks");
  locks.setAttribute("aria-label", t("accounts.locks"));
  item.append(locks);
  core("status", account.documentNumber).then((text) => {
    const status = JSON.parse(text);
    for (const [name, pin] of [["PIN1", status.pin1], ["PIN2", status.pin2]]) {
      locks.append(element("li", pinState(name, pin)));
    }
  }).catch(() => {});
  // Deleting asks once more on the card itself (no dialog: one hand, screen readers).
  const remove = element("button", t("accounts.delete"), "danger");
  remove.type = "button";
  remove.onclick = () => {
    if (remove.dataset.armed) { deleteAccount(account.documentNumber); return; }
    remove.dataset.armed = "yes";
    const question = element("p", t("accounts.deleteConfirm", { document: account.documentNumber }), "warning");
    question.setAttribute("role", "alert");
    item.insertBefore(question, remove);
    remove.textContent = t("accounts.deleteForGood");
  };
  item.append(remove);
  return item;
}

function pinState(name, pin) {
  switch (pin.state) {
    case "usable": return t("pinState.usable", { pin: name, count: pin.attemptsBeforeLock });
    case "locked": return t("pinState.locked", { pin: name, time: formatTime(pin.until) });
    default: return t("pinState.permanent", { pin: name });
  }
}

async function deleteAccount(document) {
  busy(true);
  try { await core("delete", document); } catch (failure) { showError(failure); return; }
  await showAccounts();
}

// --- transactions ------------------------------------------------------------------------
async function checkForTransactions(waitMs = 0) {
  await accountsShown;
  busy(true);
  let found;
  try { found = await coreJson("pending", waitMs); } catch (failure) { showError(failure); return; }
  busy(false);
  if (found.length > 0) showTransaction(found[0]);
  else if (!$("accounts-view").hidden) $("busy").textContent = t("accounts.nothing");
}

const CHECK_WAIT_MS = 3000;
let current = null;
let pin = "";
let chosenCode = null;

function showTransaction(transaction) {
  current = transaction;
  pin = "";
  chosenCode = null;
  const rp = transaction.relyingPartyName;
  $("tx-title").textContent = transaction.kind === "authentication" ? t("tx.login", { rp })
    : transaction.kind === "signature" ? t("tx.sign", { rp }) : t("tx.certificate", { rp });
  $("tx-account").textContent = t("tx.account", { document: transaction.documentNumber });
  $("tx-text").textContent = transaction.text ?? "";
  $("tx-text").hidden = !transaction.text;
  const choices = transaction.codeChoices ?? [];
  $("tx-code-box").hidden = !transaction.verificationCode || choices.length > 0;
  $("tx-code").textContent = transaction.verificationCode ?? "";
  const group = $("tx-choices");
  group.hidden = choices.length === 0;
  group.querySelectorAll("button").forEach((button) => button.remove());
  for (const code of choices) {
    const button = element("button", code, "choice");
    button.type = "button";
    button.setAttribute("role", "radio");
    button.setAttribute("aria-checked", "false");
    button.onclick = () => {
      chosenCode = code;
      group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-checked", String(b === button)));
    };
    group.append(button);
  }
  $("tx-pin").hidden = !transaction.key;
  $("tx-pin-label").textContent = transaction.key === "signing" ? t("tx.pin2") : t("tx.pin1");
  $("tx-attempts").textContent = "";
  renderPin();
  show("transaction-view");
}

function renderPin() {
  $("pin-dots").textContent = "•".repeat(pin.length);
  $("pin-count").textContent = t("tx.digits", { count: pin.length });
}

function buildKeypad() {
  const pad = $("keypad");
  for (const key of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0"]) {
    const button = element("button", key === "erase" ? "⌫" : key, "key");
    button.type = "button";
    if (key === "erase") button.setAttribute("aria-label", t("tx.erase"));
    button.onclick = () => {
      pin = key === "erase" ? pin.slice(0, -1) : (pin.length < 12 ? pin + key : pin);
      renderPin();
    };
    pad.append(button);
  }
}

async function confirmTransaction() {
  const transaction = current;
  busy(true);
  let outcome;
  try {
    outcome = await coreJson("confirm", transaction.transactionId,
      transaction.key ? pin : undefined, chosenCode ?? undefined);
  } catch (failure) { showError(failure); return; }
  busy(false);
  pin = "";
  renderPin();
  showOutcome(transaction, outcome, "completed");
}

async function refuseTransaction() {
  const transaction = current;
  busy(true);
  let outcome;
  try { outcome = await coreJson("refuse", transaction.transactionId); } catch (failure) { showError(failure); return; }
  busy(false);
  showOutcome(transaction, outcome, "refused");
}

let countdownTimer = null;
function showOutcome(transaction, outcome, done) {
  clearInterval(countdownTimer);
  $("countdown").textContent = "";
  const rp = transaction.relyingPartyName;
  if (outcome.outcome === "wrong_pin" && outcome.pin.state === "usable") {
    $("tx-attempts").textContent = t("tx.attempts", {
      count: outcome.pin.attemptsBeforeLock, lock: t(`lock.${outcome.pin.nextLock}`) });
    return;
  }
  if (outcome.outcome === "wrong_pin" && outcome.pin.state === "locked") {
    $("result-title").textContent = t("result.locked");
    $("result-text").textContent = t("result.lockedUntil", { time: formatTime(outcome.pin.until) });
    startCountdown(new Date(outcome.pin.until));
  } else if (outcome.outcome === "wrong_pin") {
    $("result-title").textContent = t("result.locked");
    $("result-text").textContent = t("result.permanent");
  } else if (outcome.outcome === "gone") {
    $("result-title").textContent = t("result.done");
    $("result-text").textContent = t("result.gone");
  } else {
    $("result-title").textContent = t("result.done");
    $("result-text").textContent = t(`result.${done}`, { rp });
  }
  // A device link's flow returns to the e-service (Web2App, App2App).
  const back = $("result-return");
  back.hidden = !outcome.callbackUrl;
  if (outcome.callbackUrl) {
    back.href = outcome.callbackUrl;
    back.textContent = t("result.return", { rp });
  }
  show("result-view");
}

// A device link opened in the app's scope (the /device-link page's "Open in the app"):
// `#link=` and the link, percent-encoded. The address is cleared at once: a link opens once.
async function openLinkFromAddress() {
  const prefix = "#link=";
  if (!location.hash.startsWith(prefix)) return false;
  const link = decodeURIComponent(location.hash.slice(prefix.length));
  history.replaceState(null, "", location.pathname);
  await openLink(link);
  return true;
}

async function openLink(link) {
  busy(true);
  let found;
  try { found = await coreJson("open_link", link); } catch (failure) { showError(failure); return; }
  busy(false);
  showTransaction(found);
}

// --- scanning a QR code --------------------------------------------------------------------
// Camera frames, five a second, greyscale, read by the core (rqrr in WebAssembly) until one
// holds a code; nothing leaves the phone but the link itself, to this app's own server.
const SCAN_EVERY_MS = 200;
let scanAttempt = 0;

async function scanQrCode() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch { $("busy").textContent = t("scan.unavailable"); return; }
  const attempt = ++scanAttempt;
  const video = $("scan-video");
  video.srcObject = stream;
  show("scan-view");
  const stop = () => { stream.getTracks().forEach((track) => track.stop()); video.srcObject = null; };
  try { await video.play(); } catch { stop(); $("busy").textContent = t("scan.unavailable"); return; }
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  while (attempt === scanAttempt) {
    await new Promise((resolve) => setTimeout(resolve, SCAN_EVERY_MS));
    const [width, height] = [video.videoWidth, video.videoHeight];
    if (attempt !== scanAttempt || !width || !height) continue;
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const { data } = context.getImageData(0, 0, width, height);
    const luma = new Uint8Array(width * height);
    for (let i = 0; i < luma.length; i++) luma[i] = (data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / 3;
    const text = await core("read_qr", width, height, luma);
    if (text && attempt === scanAttempt) {
      scanAttempt++;
      stop();
      await openLink(text);
      return;
    }
  }
  stop();
}

function startCountdown(until) {
  const tick = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    const hh = String(Math.floor(left / 3600)).padStart(2, "0");
    const mm = String(Math.floor((left % 3600) / 60)).padStart(2, "0");
    const ss = String(left % 60).padStart(2, "0");
    $("countdown").textContent = t("result.countdown", { time: `${hh}:${mm}:${ss}` });
    if (left === 0) clearInterval(countdownTimer);
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
}

// --- registration ------------------------------------------------------------------------
// First the proof of identity (the methods the server accepts), then both PINs. A proof by
// another phone or an identity provider is made before the PINs are typed: the provider's
// sign-in leaves the page, and nothing typed may wait for it.
let acceptedWarning = null;
let proofingMethods = null;
let proof = null;          // {proofing, summary, identityCode} once made; demo: made at submit
let vouchAttempt = 0;      // bumped to stop waiting for another phone
const SIGN_IN_KEY = "splitid.signIn";

function registrationStep(step) {
  $("proof-choice").hidden = step !== "choice";
  $("vouch-form").hidden = step !== "vouch";
  $("register-form").hidden = step !== "pins";
  $("keygen").hidden = step !== "keygen";
}

async function showRegistration() {
  vouchAttempt++;
  proof = null;
  $("pin-warning").hidden = true;
  $("proof-cancel").hidden = $("register-cancel").hidden = accounts.length === 0;
  if (!proofingMethods) {
    busy(true);
    try { proofingMethods = await coreJson("proofingMethods"); } catch (failure) { showError(failure); return; }
    busy(false);
  }
  const { demo, account, oidc } = proofingMethods;
  const redirect = oidc && oidc.authorizationEndpoint;
  if (demo && !account && !redirect) { showPins(null); return; }
  $("proof-oidc").hidden = !redirect;
  if (redirect) $("proof-oidc").textContent = t("register.withProvider", { provider: oidc.name });
  $("proof-account").hidden = !account;
  $("proof-demo").hidden = !demo;
  $("proof-none").hidden = demo || account || redirect;
  registrationStep("choice");
  show("register-view");
}

/** The PIN form, for a proof already made (`null`: the demo's typed identity). */
function showPins(made) {
  proof = made;
  $("demo-fields").hidden = made !== null;
  $("proof-summary").textContent = made ? made.summary : "";
  $("pin-warning").hidden = true;
  registrationStep("pins");
  show("register-view");
}

// Sign-in at the identity provider: the page leaves and comes back with the answer in its
// fragment; what it needs then waits in this tab's session storage (no secret in it).
async function signInWithProvider() {
  busy(true);
  try {
    const redirectUri = new URL("./", location.href).href;
    const { url, pending } = await coreJson("beginOidcSignIn", redirectUri);
    sessionStorage.setItem(SIGN_IN_KEY, JSON.stringify(pending));
    location.assign(url);
  } catch (failure) { showError(failure); }
}

/** After the provider sent the person back: the proof, or false when this is no return. */
async function returnFromProvider() {
  const pending = sessionStorage.getItem(SIGN_IN_KEY);
  const fragment = location.hash;
  if (!pending || !/[#&](state|id_token|error)=/.test(fragment)) return false;
  sessionStorage.removeItem(SIGN_IN_KEY);
  // The token leaves the address bar (and the history) at once.
  history.replaceState(null, "", location.pathname + location.search);
  try {
    const proofing = await coreJson("finishOidcSignIn", fragment, pending);
    const { provider } = JSON.parse(pending);
    showPins({ proofing, summary: t("register.signedIn", { provider }),
      identityCode: identityCodeInToken(proofing.idToken) });
  } catch (failure) {
    await showRegistration();
    showError(failure);
  }
  return true;
}

/** The personal code in the ID token's claims, for the date-of-birth PIN warning only (the
 *  server verifies the token; nothing here trusts it). */
function identityCodeInToken(idToken) {
  try {
    const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
    const identifier = Object.values(claims).find((v) => typeof v === "string" && /^PNO[A-Z]{2}-/.test(v));
    return identifier ? identifier.slice(6) : "";
  } catch { return ""; }
}

// Another phone with an account of the same person vouches with a PIN1 login there.
function showVouchForm() {
  $("vouch-wait").hidden = true;
  $("vouch-ask").disabled = false;
  registrationStep("vouch");
  show("register-view");
}

const VOUCH_POLL_MS = 10000;

async function askOtherPhone(event) {
  event.preventDefault();
  const documentNumber = event.target.document.value.trim().toUpperCase();
  if (!documentNumber) return;
  const attempt = ++vouchAttempt;
  $("vouch-ask").disabled = true;
  busy(true);
  let asked;
  try { asked = await coreJson("askOtherDevice", documentNumber); } catch (failure) {
    $("vouch-ask").disabled = false;
    showError(failure);
    return;
  }
  busy(false);
  $("vouch-code").textContent = asked.verificationCode;
  $("vouch-wait").hidden = false;
  let state;
  do {
    try { state = await coreJson("vouchState", JSON.stringify(asked.challenge), VOUCH_POLL_MS); } catch (failure) {
      if (attempt === vouchAttempt) { $("vouch-ask").disabled = false; showError(failure); }
      return;
    }
    if (attempt !== vouchAttempt) return;   // cancelled meanwhile
  } while (state.state === "RUNNING" || state.state === "NONE");
  $("vouch-wait").hidden = true;
  $("vouch-ask").disabled = false;
  if (state.state !== "OK") {
    const key = `vouch.${state.state}`;
    showProblem((strings[key] ?? fallback[key]) ? t(key) : t("vouch.ended", { result: state.state }));
    return;
  }
  const voucher = state.voucher || documentNumber;
  showPins({ proofing: { method: "account", challengeId: asked.challenge.challengeId },
    summary: t("register.vouched", { document: voucher }),
    identityCode: voucher.replace(/^PNO[A-Z]{2}-/, "").split("-")[0] });
}

/** Why a PIN is easy to guess, or null: one digit repeated, digits in a row, or the date of
 *  birth an Estonian/Lithuanian identity code carries (as DDMM, MMDD, YYYY, DDMMYY, …). */
function trivialReason(value, code) {
  if (/^(\d)\1*$/.test(value)) return t("trivial.repeated");
  const ascending = "01234567890123456789", descending = "98765432109876543210";
  if (ascending.includes(value) || descending.includes(value)) return t("trivial.sequence");
  const digits = code.replace(/\D/g, "");
  if (digits.length === 11 && "123456".includes(digits[0])) {
    const century = { 1: "18", 2: "18", 3: "19", 4: "19", 5: "20", 6: "20" }[digits[0]];
    const yy = digits.slice(1, 3), mm = digits.slice(3, 5), dd = digits.slice(5, 7);
    const forms = [dd + mm, mm + dd, century + yy, dd + mm + yy, yy + mm + dd, dd + mm + century + yy];
    if (forms.some((form) => value.includes(form) && value.length <= form.length + 2)) {
      return t("trivial.birth");
    }
  }
  return null;
}

function checkPins(form) {
  const problems = [];
  for (const [name, field, digits] of [["PIN1", "pin1", 4], ["PIN2", "pin2", 5]]) {
    const value = form[field].value;
    if (!/^\d*$/.test(value)) problems.push(t("register.digits"));
    else if (value.length < digits) problems.push(t("register.short", { pin: name, digits }));
    else if (value !== form[`${field}again`].value) problems.push(t("register.mismatch", { pin: name }));
  }
  return problems;
}

async function register(event) {
  event.preventDefault();
  const form = event.target;
  const warning = $("pin-warning");
  const problems = checkPins(form);
  if (problems.length > 0) {
    warning.textContent = problems.join(" ");
    warning.hidden = false;
    return;
  }
  const code = proof ? proof.identityCode : form.code.value.trim();
  const trivial = [["PIN1", form.pin1.value], ["PIN2", form.pin2.value]]
    .map(([name, value]) => [name, trivialReason(value, code)])
    .filter(([, why]) => why);
  const key = `${form.pin1.value}/${form.pin2.value}`;
  if (form.pin1.value === form.pin2.value && acceptedWarning !== key) {
    warning.textContent = t("register.same");
    warning.hidden = false;
    acceptedWarning = key;
    return;
  }
  if (trivial.length > 0 && acceptedWarning !== key) {
    warning.textContent = trivial.map(([pin, why]) => t("register.trivial", { pin, why })).join(" ");
    warning.hidden = false;
    acceptedWarning = key;
    return;
  }
  const request = {
    proofing: proof ? proof.proofing : {
      method: "demo",
      semanticsIdentifier: `PNO${form.country.value}-${code}`,
      givenName: form.givenName.value.trim().toUpperCase(),
      surname: form.surname.value.trim().toUpperCase(),
    },
    pin1: form.pin1.value,
    pin2: form.pin2.value,
  };
  for (const field of ["pin1", "pin1again", "pin2", "pin2again"]) form[field].value = "";
  registrationStep("keygen");
  const bar = $("keygen-progress");
  bar.removeAttribute("value");   // indeterminate until the core reports its first step
  $("keygen-label").textContent = "";
  const steps = { authenticationKey: 1, signingKey: 2, withTheServer: 3 };
  const onProgress = (step) => {
    bar.max = 3;
    bar.value = steps[step] - 1;
    $("keygen-label").textContent = step === "withTheServer"
      ? t("register.finishing") : t("register.step", { step: steps[step] });
  };
  try {
    const account = JSON.parse(await coreWithProgress(onProgress, "register", JSON.stringify(request)));
    $("result-title").textContent = t("result.done");
    $("result-text").textContent = t("register.done", { document: account.documentNumber });
    accounts.push(account);
    show("result-view");
    sharePushSubscription();
  } catch (failure) {
    registrationStep("pins");
    showError(failure);
  }
}

// --- notifications (Web Push) ---------------------------------------------------------
// A courtesy: "Check for transactions" always works, and the app checks when it opens.
const pushSupported = "serviceWorker" in navigator && "PushManager" in window
  && "Notification" in window;

function base64urlBytes(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

// The browser's subscription for this service's VAPID key: made once and reused, made anew
// if it was made for another key (the service's data was replaced), since push services then
// refuse the messages without saying the subscription is gone.
async function pushSubscription() {
  const registration = await navigator.serviceWorker.ready;
  const key = base64urlBytes((await coreJson("pushKey")).applicationServerKey);
  const existing = await registration.pushManager.getSubscription();
  const madeFor = existing && existing.options && existing.options.applicationServerKey;
  if (existing && (!madeFor || sameBytes(new Uint8Array(madeFor), key))) return existing;
  if (existing) await existing.unsubscribe();
  return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
}

// Gives every account on this phone the subscription: at each start (a browser may renew
// it), after a registration and once notifications are allowed.
async function sharePushSubscription() {
  if (!pushSupported || Notification.permission !== "granted" || accounts.length === 0) return;
  try {
    const subscription = await pushSubscription();
    await core("setPushSubscription", JSON.stringify(subscription.toJSON()));
  } catch { /* without push the app still finds transactions when it opens */ }
}

function renderNotifyButton() {
  $("notify").hidden = !pushSupported || accounts.length === 0
    || Notification.permission !== "default";
}

async function turnOnNotifications() {
  const permission = await Notification.requestPermission();
  renderNotifyButton();
  if (permission === "granted") await sharePushSubscription();
  else $("busy").textContent = t("notify.denied");
}

// The service worker tells an open app that a push arrived, or that its notification was
// tapped. A push is acted on only where the person is not busy (the account list); a tap is
// the person asking for the transaction, so it also leaves a result they were reading. Neither
// interrupts a registration or another transaction.
function listenToServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", ({ data }) => {
    const type = data && data.type;
    const onAccounts = !$("accounts-view").hidden;
    const onResult = !$("result-view").hidden;
    if (type === "transaction" && onAccounts) {
      checkForTransactions(CHECK_WAIT_MS);
    } else if (type === "notification-tapped" && (onAccounts || onResult)) {
      clearInterval(countdownTimer);
      checkForTransactions(CHECK_WAIT_MS);
    }
  });
}

// --- start -------------------------------------------------------------------------------
async function start() {
  await loadLanguage();
  buildKeypad();
  // The button waits a few seconds for a transaction that is on its way.
  $("check").onclick = () => checkForTransactions(CHECK_WAIT_MS);
  $("add").onclick = showRegistration;
  $("scan").onclick = scanQrCode;
  $("scan-cancel").onclick = () => { scanAttempt++; showAccounts(); };
  $("notify").onclick = turnOnNotifications;
  $("register-form").onsubmit = register;
  $("register-cancel").onclick = showAccounts;
  $("proof-cancel").onclick = showAccounts;
  $("proof-oidc").onclick = signInWithProvider;
  $("proof-account").onclick = showVouchForm;
  $("proof-demo").onclick = () => showPins(null);
  $("vouch-form").onsubmit = askOtherPhone;
  $("vouch-cancel").onclick = showRegistration;
  $("tx-confirm").onclick = confirmTransaction;
  $("tx-refuse").onclick = refuseTransaction;
  $("result-done").onclick = () => { clearInterval(countdownTimer); showAccounts(); };
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  }
  listenToServiceWorker();
  try { await core("resume"); } catch { /* shown by the next call if it matters */ }
  if (await returnFromProvider()) {
    accounts = await coreJson("accounts").catch(() => []);
    $("register-cancel").hidden = accounts.length === 0;
    return;
  }
  await showAccounts();
  sharePushSubscription();
  if (await openLinkFromAddress()) return;
  if (accounts.length > 0) await checkForTransactions(0);
}

start();
