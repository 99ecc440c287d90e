// The device core's worker: the WebAssembly module runs here, so that key generation and
// the PIN's key derivation never freeze the page. The page sends {id, method, args}; the
// answer is {id, value} or {id, error} (the core's failure JSON); a registration also sends
// {id, progress} as each of its steps begins.
import init, { WebApp } from "./pkg/splitid_web_app.js";

const module = new URL("./pkg/splitid_web_app_bg.wasm", import.meta.url);
const ready = init({ module_or_path: module }).then(() => new WebApp(self.location.origin));

self.onmessage = async ({ data: { id, method, args } }) => {
  try {
    const app = await ready;
    const progress = (step) => self.postMessage({ id, progress: step });
    const value = await (method === "register" ? app.register(...args, progress) : app[method](...args));
    self.postMessage({ id, value });
  } catch (error) {
    const text = typeof error === "string" ? error
      : JSON.stringify({ kind: "internal", message: String(error && error.message || error) });
    self.postMessage({ id, error: text });
  }
};
