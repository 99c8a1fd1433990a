// Everything serverless.yml derives from canary.config.ts, computed once (serverless.yml
// references this file in one place, `custom.canary`), through the same TypeScript modules
// the functions, the local runner and the tests use: the schema (a bad configuration fails
// `sls package` with one message naming each field), the functions with their environment
// and IAM (functions/lib/stack.ts), the sweep's schedule, and the state machine definition
// from statemachine/ with each ${XFunctionArn} placeholder bound to its function.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { buildSync } = require('esbuild');

/**
 * The configuration file: canary.config.ts, or the file CANARY_CONFIG names (relative to this
 * directory): CI packages and scans the example and the all-features fixture this way.
 */
const CONFIG_FILE = process.env.CANARY_CONFIG || 'canary.config.ts';

function loadTypeScript() {
  const configPath = path.resolve(__dirname, CONFIG_FILE);
  if (!fs.existsSync(configPath)) throw configurationError(`${CONFIG_FILE}: no such configuration file (CANARY_CONFIG=${process.env.CANARY_CONFIG ?? ''})`);
  const { outputFiles } = buildSync({
    stdin: {
      contents: [
        "export { parseConfig, checkServicesAt } from './functions/lib/config.ts';",
        `export { default as config } from ${JSON.stringify(configPath)};`,
        "export { keyResources, keyExtensions, withKeyOnLogGroups } from './functions/lib/hardening.ts';",
        "export { serverlessFunctions, scheduleResources, taskStates, lambdaLogicalId, PROVIDER } from './functions/lib/stack.ts';",
        "export { stateMachineDeclaration, stateMachineResources } from './functions/lib/state-machine.ts';",
        "export { eventBusPolicyResources } from './functions/lib/forwarder.ts';",
      ].join('\n'),
      resolveDir: __dirname,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', outputFiles[0].text)(module, module.exports, require);
  return module.exports;
}

/** ${PreflightFunctionArn} -> { 'Fn::GetAtt': ['PreflightLambdaFunction', 'Arn'] } (the function `preflight`), in every branch. */
function bindFunctions(ts, definition) {
  for (const { state, fn, token } of ts.taskStates(definition)) {
    const arn = { 'Fn::GetAtt': [ts.lambdaLogicalId(fn), 'Arn'] };
    if (token) state.Parameters.FunctionName = arn;
    else state.Resource = arn;
  }
  return definition;
}

/** osls prints an error's stack inside its message: a configuration error is one clean message. */
function configurationError(message) {
  const error = new Error(message);
  error.stack = message;
  return error;
}

module.exports = async ({ resolveVariable }) => {
  const ts = loadTypeScript();
  // The state machine's name, as the CLI and the functions' grants expect it (functions/lib/stack.ts stateMachineName).
  const stateMachineName = `${await resolveVariable('self:service')}-${await resolveVariable('sls:stage')}`;
  let config;
  try {
    config = ts.parseConfig(ts.config);
    // The stack's region tells a service that names it from one that names none (the account is not known here: the functions check that too).
    ts.checkServicesAt(config, { account: '', region: await resolveVariable('self:provider.region') });
  } catch (error) {
    if (error && error.name === 'InvalidConfig') throw configurationError(`${CONFIG_FILE}: ${error.message}`);
    throw error;
  }
  const definition = JSON.parse(fs.readFileSync(path.join(__dirname, 'statemachine', 'canary.asl.json'), 'utf8'));
  const functions = ts.serverlessFunctions(config, stateMachineName);
  return {
    pairs: config.pairs.map((p) => p.name).join(', '),
    provider: ts.PROVIDER,
    functions,
    resources: {
      Resources: {
        ...ts.scheduleResources(config, stateMachineName),
        ...ts.withKeyOnLogGroups(config, ts.stateMachineResources(config, stateMachineName)),
        // hardening.kms: the key, on every log group and the claims table (functions/lib/hardening.ts)
        ...ts.keyResources(config, stateMachineName),
        // sides in other accounts: their forwarders' roles may put events on the stack's bus (functions/lib/forwarder.ts)
        ...ts.eventBusPolicyResources(config, await resolveVariable('sls:stage')),
      },
      extensions: ts.keyExtensions(config, Object.keys(functions)),
    },
    stateMachine: ts.stateMachineDeclaration(config, stateMachineName, bindFunctions(ts, definition)),
  };
};
