// `npm run demo`: one canary on the embedded simulated AWS account, in virtual time.
// The environment is set before any module that reads it at load (Powertools, the AWS SDK).
process.env.POWERTOOLS_LOG_LEVEL ??= process.argv.includes('--logs') ? 'INFO' : 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await import('./demo-main.js');
process.exitCode = await main(process.argv.slice(2), process.stdout);
