// Entry point: picks the transport (Tauri inside the desktop app, HTTP in a browser)
// and starts the app.

import './styles.css';
import { App } from './app';
import type { Backend } from './backend';
import { HttpBackend } from './backend/http';
import { TauriBackend } from './backend/tauri';
import { isTauri, tauriBridge } from './backend/tauri-bridge';

const backend: Backend = isTauri() ? new TauriBackend(tauriBridge) : new HttpBackend();
const root = document.getElementById('app');
if (root) {
  new App(root, backend).start();
}
