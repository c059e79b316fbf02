import { render } from 'preact';
import { App } from './App.js';
import './app.css';

const root = document.getElementById('app');
if (root) render(<App />, root);

// The app shell offline (sw.js, scope /app/). Not in development (no build, no worker file).
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((error: unknown) => {
    // Without a worker the app still works online: a note for whoever looks, no alarm.
    console.warn('lineal: the offline service worker could not be installed', error);
  });
}
