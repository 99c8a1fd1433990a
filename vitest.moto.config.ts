import { defineConfig } from 'vitest/config';

// `npm run test:moto`: the adapter contract against moto server (needs Python: bash .ci/python-tools.sh).
export default defineConfig({
  test: {
    include: ['test/contract/moto.contract.ts'],
    globalSetup: ['test/contract/moto-server.ts'],
    pool: 'forks',
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
