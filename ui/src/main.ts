// Entry point: picks the transport (Tauri inside the desktop app, HTTP in a browser)
// and starts the app.

import './styles.css';
import { App } from './app';
import type { Backend } from './backend';
import { HttpBackend } from './backend/http';
import { TauriBackend, type TauriBridge } from './backend/tauri';

declare global {
  interface Window {
    /** Set by the desktop shell before this script runs. */
    __XUNYING_TAURI_BRIDGE__?: TauriBridge;
  }
}

const bridge = window.__XUNYING_TAURI_BRIDGE__;
const backend: Backend = bridge ? new TauriBackend(bridge) : new HttpBackend();
const root = document.getElementById('app');
if (root) {
  new App(root, backend).start();
}
