//! The `WebApp` class the page's worker calls (`www/worker.js`): every method returns a
//! promise of JSON text, or rejects with `{kind, message, status?}`.

use std::rc::Rc;
use std::time::Duration;

use serde::Serialize;
use splitid_app::AppError;
use splitid_app::flows::RegistrationStep;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use zeroize::Zeroizing;

use crate::browser::{BrowserClock, FetchTransport, IndexedDbVault, message};
use crate::device::{Device, PendingSignIn, RegistrationRequest};
use splitid_proto::app_v1::ProofingChallenge;

type BrowserDevice = Device<IndexedDbVault, FetchTransport, BrowserClock>;

/// The device core for one server, on this browser's storage.
#[wasm_bindgen]
pub struct WebApp(Rc<BrowserDevice>);

/// What the page is told of a failure: a kind it can translate, and the core's message.
#[derive(Serialize)]
struct Failure {
    kind: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

fn failure(error: AppError) -> JsValue {
    let (kind, status) = match &error {
        AppError::Usage(_) => ("usage", None),
        AppError::Network(_) => ("network", None),
        AppError::Server { status, .. } => ("server", Some(*status)),
        AppError::Protocol(_) => ("protocol", None),
        AppError::Vault(_) => ("vault", None),
        AppError::Key(_) => ("key", None),
    };
    let body = Failure {
        kind,
        message: error.to_string(),
        status,
    };
    JsValue::from_str(&serde_json::to_string(&body).unwrap_or_default())
}

fn json(value: &impl Serialize) -> Result<JsValue, JsValue> {
    serde_json::to_string(value)
        .map(|text| JsValue::from_str(&text))
        .map_err(|e| failure(AppError::Protocol(e.to_string())))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, JsValue> {
    serde_json::from_str(text).map_err(|e| failure(AppError::Usage(e.to_string())))
}

#[wasm_bindgen]
impl WebApp {
    /// The app for the server at `server` (its base URL, the page's own origin).
    #[wasm_bindgen(constructor)]
    pub fn new(server: &str) -> WebApp {
        WebApp(Rc::new(Device::new(
            server,
            IndexedDbVault,
            FetchTransport,
            BrowserClock,
        )))
    }

    /// `[AccountView]`.
    pub fn accounts(&self) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let accounts = device
                .accounts(BrowserClock::unix_seconds_now())
                .await
                .map_err(failure)?;
            json(&accounts)
        })
    }

    /// `request`: `{proofing, pin1, pin2}` as JSON; resolves with the new `AccountView`.
    /// `progress` is called with each step's name as it begins (`authenticationKey`,
    /// `signingKey`, `withTheServer`).
    pub fn register(&self, request: String, progress: js_sys::Function) -> js_sys::Promise {
        let device = self.0.clone();
        let request = Zeroizing::new(request);
        future_to_promise(async move {
            let request: RegistrationRequest = parse(&request)?;
            let tell = |step: RegistrationStep| {
                // A page that stopped listening changes nothing here.
                let _ = progress.call1(&JsValue::NULL, &JsValue::from_str(step.name()));
            };
            let account = device
                .register(request, BrowserClock::unix_seconds_now(), tell)
                .await
                .map_err(failure)?;
            json(&account)
        })
    }

    /// `[TransactionView]`, waiting up to `wait_ms` for one.
    pub fn pending(&self, wait_ms: u32) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let found = device
                .pending(Duration::from_millis(u64::from(wait_ms)))
                .await
                .map_err(failure)?;
            json(&found)
        })
    }

    /// The text of the QR code in a camera frame (greyscale, one byte a pixel), if any.
    pub fn read_qr(&self, width: u32, height: u32, luma: Vec<u8>) -> Option<String> {
        splitid_app::qr::read(width as usize, height as usize, &luma)
    }

    /// Opens a device link; resolves with its `TransactionView`.
    pub fn open_link(&self, link: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let view = device.open_link(&link).await.map_err(failure)?;
            json(&view)
        })
    }

    /// Resolves with the `TransactionOutcome`, and `callbackUrl` where a device link's flow
    /// returns to the e-service.
    pub fn confirm(
        &self,
        transaction_id: String,
        pin: Option<String>,
        chosen_code: Option<String>,
    ) -> js_sys::Promise {
        let device = self.0.clone();
        let pin = pin.map(Zeroizing::new);
        future_to_promise(async move {
            let outcome = device
                .confirm(&transaction_id, pin, chosen_code)
                .await
                .map_err(failure)?;
            json(&Answered {
                callback_url: device.take_return(&transaction_id),
                outcome,
            })
        })
    }

    /// Resolves with the `TransactionOutcome` (and `callbackUrl`, as for `confirm`).
    pub fn refuse(&self, transaction_id: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let outcome = device.refuse(&transaction_id).await.map_err(failure)?;
            json(&Answered {
                callback_url: device.take_return(&transaction_id),
                outcome,
            })
        })
    }

    /// Resolves with the server's `AccountStatus` (state, PIN locks).
    pub fn status(&self, document_number: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let status = device.status(&document_number).await.map_err(failure)?;
            json(&status)
        })
    }

    /// Deletes the account on the server and on this phone.
    pub fn delete(&self, document_number: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            device.delete(&document_number).await.map_err(failure)?;
            Ok(JsValue::NULL)
        })
    }

    /// Resolves with `{applicationServerKey}`, for `PushManager.subscribe`.
    #[wasm_bindgen(js_name = pushKey)]
    pub fn push_key(&self) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move { json(&device.push_key().await.map_err(failure)?) })
    }

    /// Gives every account the browser's subscription (`PushSubscription.toJSON()` as JSON
    /// text), or with `"null"` takes it back; resolves with how many accounts were told.
    #[wasm_bindgen(js_name = setPushSubscription)]
    pub fn set_push_subscription(&self, subscription: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let subscription: Option<splitid_proto::app_v1::PushSubscription> =
                parse(&subscription)?;
            let told = device
                .set_push_subscription(subscription.as_ref())
                .await
                .map_err(failure)?;
            Ok(JsValue::from_f64(told as f64))
        })
    }

    /// Resolves with the server's `ProofingMethods`.
    #[wasm_bindgen(js_name = proofingMethods)]
    pub fn proofing_methods(&self) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move { json(&device.proofing_methods().await.map_err(failure)?) })
    }

    /// Resolves with `{url, pending}`: where to send the person to sign in at the identity
    /// provider, and what to keep until they come back to `redirect_uri`.
    #[wasm_bindgen(js_name = beginOidcSignIn)]
    pub fn begin_oidc_sign_in(&self, redirect_uri: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            json(
                &device
                    .begin_oidc_sign_in(&redirect_uri)
                    .await
                    .map_err(failure)?,
            )
        })
    }

    /// Resolves with the `Proofing` the provider's answer (`fragment`) gives for the sign-in
    /// `pending` (JSON, from `beginOidcSignIn`).
    #[wasm_bindgen(js_name = finishOidcSignIn)]
    pub fn finish_oidc_sign_in(&self, fragment: String, pending: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let pending: PendingSignIn = parse(&pending)?;
            json(
                &device
                    .finish_oidc_sign_in(&fragment, &pending)
                    .map_err(failure)?,
            )
        })
    }

    /// Resolves with `{challenge, verificationCode}`: the phone with the account
    /// `document_number` is asked to vouch for this one.
    #[wasm_bindgen(js_name = askOtherDevice)]
    pub fn ask_other_device(&self, document_number: String) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            json(
                &device
                    .ask_other_device(&document_number)
                    .await
                    .map_err(failure)?,
            )
        })
    }

    /// Resolves with the `VouchState` of `challenge` (JSON), waiting up to `wait_ms`.
    #[wasm_bindgen(js_name = vouchState)]
    pub fn vouch_state(&self, challenge: String, wait_ms: u32) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let challenge: ProofingChallenge = parse(&challenge)?;
            let wait = Duration::from_millis(u64::from(wait_ms));
            json(
                &device
                    .vouch_state(&challenge, wait)
                    .await
                    .map_err(failure)?,
            )
        })
    }

    /// Sends any request left in flight; resolves with how many.
    pub fn resume(&self) -> js_sys::Promise {
        let device = self.0.clone();
        future_to_promise(async move {
            let resumed = device.resume().await.map_err(failure)?;
            Ok(JsValue::from_f64(resumed as f64))
        })
    }
}

/// A transaction's answer as the page reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answered {
    #[serde(flatten)]
    outcome: splitid_proto::app_v1::TransactionOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<String>,
}

/// Turns a JavaScript exception into the same failure shape (for the worker's own errors).
#[wasm_bindgen(js_name = describeError)]
pub fn describe_error(error: JsValue) -> String {
    message(&error)
}
