import { adapterContract } from './adapters.js';

// The adapter contract against a real moto server (started by moto-server.ts): `npm run test:moto`.
adapterContract('moto');
