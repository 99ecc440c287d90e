//! The app's side: the device channel, several devices, PIN locks, an account's life.

mod app_channel;
mod device_channel;
mod device_core;
mod faults;
mod lifecycle;
mod multi_device;
mod older_app;
mod parallel_pin_attempts;
mod pin_locks;
mod push;
mod sealed_secrets;
mod web_device;
