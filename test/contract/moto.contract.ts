import { adapterContract } from './adapters.js';

// The adapter contract against a real moto server (started by moto-server.ts): `npm run test:moto`.
// The adapters' clients read AWS_ENDPOINT_URL and the credentials from the environment on their
// first request; moto-server.ts sets them before any test file loads. Refuse to run without
// them, so that nothing here can ever reach a real AWS account.
const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint) || process.env.AWS_ACCESS_KEY_ID !== 'testing')
  throw new Error(`the moto contract needs AWS_ENDPOINT_URL=http://127.0.0.1:<port> and dummy credentials from test/contract/moto-server.ts (got AWS_ENDPOINT_URL=${endpoint || 'unset'}); run it with \`npm run test:moto\``);

adapterContract('moto');
