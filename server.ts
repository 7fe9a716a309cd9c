import { startServer } from './server/start.js';

/** `npm start` (node dist/server.js): the server's entry point; everything else is in server/. */
await startServer();
