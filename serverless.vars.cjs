// Values serverless.yml derives from canary.config.ts, through the same TypeScript modules the
// functions and the tests use: the schema (bad configuration fails `sls package` with a message
// naming the field), the EventBridge rule pattern, per-function IAM statements, and the state
// machine definition from statemachine/ with each ${XFunctionArn} placeholder bound to its function.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { buildSync } = require('esbuild');

function loadTypeScript() {
  const { outputFiles } = buildSync({
    stdin: {
      contents: [
        "export { parseConfig } from './functions/lib/config.ts';",
        "export { default as config } from './canary.config.ts';",
        "export { deploymentRulePattern, executionStatusRulePattern, iamStatements } from './functions/lib/stack.ts';",
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

/** ${PreflightFunctionArn} -> { 'Fn::GetAtt': ['PreflightLambdaFunction', 'Arn'] } (the function `preflight`). */
function bindFunctions(definition) {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const m = /^\$\{(\w+)FunctionArn\}$/.exec(state.Resource);
    if (!m) throw new Error(`statemachine: Task state "${name}" must use a \${...FunctionArn} placeholder, found ${state.Resource}`);
    state.Resource = { 'Fn::GetAtt': [`${m[1]}LambdaFunction`, 'Arn'] };
  }
  return definition;
}

module.exports = async ({ resolveVariable }) => {
  const ts = loadTypeScript();
  const stateMachineName = await resolveVariable('self:stepFunctions.stateMachines.canary.name');
  const config = ts.parseConfig(ts.config); // throws InvalidConfig naming each bad field
  const definition = JSON.parse(fs.readFileSync(path.join(__dirname, 'statemachine', 'canary.asl.json'), 'utf8'));
  return {
    pairs: config.pairs.map((p) => p.name).join(', '),
    deploymentRulePattern: ts.deploymentRulePattern(config),
    executionStatusRulePattern: ts.executionStatusRulePattern(),
    iam: ts.iamStatements(config, stateMachineName),
    definition: bindFunctions(definition),
  };
};
