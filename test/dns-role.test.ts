import { describe, expect, it } from 'vitest';
import { configProblems, parseConfig } from '../functions/lib/config.js';
import { sessionName } from '../functions/lib/access.js';
import { rolePolicies } from '../functions/lib/roles.js';
import { declareFunctions, functionRoleName, STATE_MACHINE_NAME, statementsOf } from '../functions/lib/stack.js';
import example from '../local/example.config.js';
import { SIM_ACCOUNT } from '../local/sim/account.js';
import { examplePair, world } from './helpers.js';

// A pair's zone in another account (dnsRoleArn): the configuration, the functions' grants, the
// role's two policies (said once, from the stack's declarations) and `npx ecs-dns-canary iam`.

const ROLE = 'arn:aws:iam::222222222222:role/ecs-dns-canary-dns';
const WHERE = { account: '123456789012', region: 'eu-west-1', stage: 'prod' };
const ROUTE53_FUNCTIONS = ['preflight', 'shiftTraffic', 'waitForChange', 'promote', 'rollBack', 'safetyNet', 'sweep'];
const crossAccount = (extra: object = {}) => parseConfig({ pairs: [{ ...example.pairs[0], dnsRoleArn: ROLE, ...extra }] });

describe('dnsRoleArn and dnsExternalId in canary.config.ts', () => {
  const problems = (extra: object) => configProblems({ pairs: [{ ...example.pairs[0], ...extra }] });

  it('take a role ARN (with a path too) and an optional ExternalId', () => {
    expect(problems({ dnsRoleArn: ROLE })).toEqual([]);
    expect(problems({ dnsRoleArn: 'arn:aws-cn:iam::222222222222:role/dns/ecs-dns-canary', dnsExternalId: 'shop:web/canary-1' })).toEqual([]);
  });

  it('name the field of each bad value', () => {
    expect(problems({ dnsRoleArn: 'arn:aws:iam::2222:role/x' })).toEqual(['pairs[0].dnsRoleArn: dnsRoleArn must be an IAM role ARN (arn:aws:iam::111122223333:role/name)']);
    expect(problems({ dnsRoleArn: 'arn:aws:iam::222222222222:user/dns' })[0]).toMatch(/^pairs\[0\]\.dnsRoleArn: /);
    expect(problems({ dnsRoleArn: 'arn:aws:iam::222222222222:role/' + 'x'.repeat(65) })[0]).toMatch(/^pairs\[0\]\.dnsRoleArn: /);
    expect(problems({ dnsRoleArn: ROLE, dnsExternalId: 'x' })).toEqual(['pairs[0].dnsExternalId: dnsExternalId must be 2 to 1224 characters: letters, digits and +=,.@:/-']);
    expect(problems({ dnsRoleArn: ROLE, dnsExternalId: 'has space' })[0]).toMatch(/^pairs\[0\]\.dnsExternalId: /);
    expect(problems({ dnsExternalId: 'shop-web' })).toEqual(["pairs[0].dnsExternalId: dnsExternalId goes with dnsRoleArn: name the role in the zone's account that asks for it"]);
  });

  it('two pairs sharing a role share its ExternalId (one role, one trust policy)', () => {
    const second = { ...examplePair(), name: 'shop-api', hostedZoneId: 'Z0EXAMPLE99999', recordName: 'api.example.com', services: examplePair().services.map((s) => ({ ...s, service: `${s.service}-api`, setIdentifier: `${s.setIdentifier}-api` })) };
    const config = { pairs: [{ ...example.pairs[0], dnsRoleArn: ROLE, dnsExternalId: 'one' }, { ...second, dnsRoleArn: ROLE, dnsExternalId: 'two' }] };
    expect(configProblems(config)).toEqual(["pairs[1].dnsExternalId: pair shop-web's dnsRoleArn names the same role with ExternalId one: one role has one trust policy"]);
    // A service's role is the same role: the zone's and the service's uses share one ExternalId.
    const shared = { pairs: [{ ...example.pairs[0], dnsRoleArn: ROLE, dnsExternalId: 'one', services: examplePair().services.map((s, i) => (i === 1 ? { ...s, roleArn: ROLE } : s)) }] };
    expect(configProblems(shared)).toEqual(["pairs[0].services[1].externalId: pair shop-web's dnsRoleArn names the same role with ExternalId one: one role has one trust policy"]);
  });
});

describe("the functions' grants", () => {
  it('with the zone in another account: sts:AssumeRole on exactly that role, only for the functions that call Route53, and no Route53 grant of their own', () => {
    const declarations = declareFunctions(crossAccount(), STATE_MACHINE_NAME);
    for (const [name, fn] of Object.entries(declarations)) {
      const statements = statementsOf(fn);
      const assume = statements.filter((s) => s.Action.includes('sts:AssumeRole'));
      expect(assume, name).toEqual(ROUTE53_FUNCTIONS.includes(name) ? [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: [ROLE] }] : []);
      expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith('route53:')), name).toEqual([]);
    }
  });

  it('with the zone in the stack account: no sts:AssumeRole at all (it is granted only when configured)', () => {
    const declarations = declareFunctions(parseConfig(example), STATE_MACHINE_NAME);
    for (const [name, fn] of Object.entries(declarations)) {
      expect(statementsOf(fn).flatMap((s) => s.Action), name).not.toContain('sts:AssumeRole');
      if (ROUTE53_FUNCTIONS.includes(name)) expect(fn.access.flatMap((a) => a.whenConfigured ?? []), name).toContain('sts:AssumeRole');
    }
  });

  it('one pair here and one elsewhere: each keeps its own way, and the roles are those the template names', () => {
    const other = { ...examplePair(), name: 'shop-api', hostedZoneId: 'Z0EXAMPLE99999', recordName: 'api.example.com', services: examplePair().services.map((s) => ({ ...s, service: `${s.service}-api`, setIdentifier: `${s.setIdentifier}-api` })) };
    const config = parseConfig({ pairs: [example.pairs[0], { ...other, dnsRoleArn: ROLE }] });
    const shift = statementsOf(declareFunctions(config, STATE_MACHINE_NAME).shiftTraffic!);
    expect(shift.find((s) => s.Action.includes('route53:ListResourceRecordSets'))!.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:route53:::hostedzone/Z0EXAMPLE12345' }]);
    expect(shift.find((s) => s.Action.includes('sts:AssumeRole'))!.Resource).toEqual([ROLE]);
    const [role] = rolePolicies(config, WHERE);
    expect(role!.pairs).toEqual(['shop-api']);
    expect(JSON.stringify(role!.permissionPolicy)).not.toContain('Z0EXAMPLE12345');
    expect(functionRoleName('waitForChange', 'prod', 'eu-west-1')).toBe('ecs-dns-canary-prod-waitForChange-eu-west-1-lambdaRole');
    // over IAM's 64 characters the plugin drops -lambdaRole
    expect(functionRoleName('waitForChange', 'staging-blue', 'ap-southeast-2')).toBe('ecs-dns-canary-staging-blue-waitForChange-ap-southeast-2');
  });
});

describe("the DNS role's policies", () => {
  it('trust exactly the functions granted sts:AssumeRole on it, plus --trust, with the ExternalId as a condition', () => {
    const [role] = rolePolicies(crossAccount({ dnsExternalId: 'shop-web-canary' }), { ...WHERE, trust: ['arn:aws:iam::123456789012:role/platform-operators'] });
    expect(role!.roleArn).toBe(ROLE);
    expect(role!.account).toBe('222222222222');
    expect(role!.functions).toEqual(ROUTE53_FUNCTIONS);
    expect(role!.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EcsDnsCanary',
          Effect: 'Allow',
          Principal: { AWS: [...ROUTE53_FUNCTIONS.map((fn) => `arn:aws:iam::123456789012:role/ecs-dns-canary-prod-${fn}-eu-west-1-lambdaRole`), 'arn:aws:iam::123456789012:role/platform-operators'] },
          Action: ['sts:AssumeRole'],
          Condition: { StringEquals: { 'sts:ExternalId': ['shop-web-canary'] } },
        },
      ],
    });
  });

  it("allow exactly the Route53 calls the stack's own grant would: list the zone, UPSERT only the record's normalized name and type, GetChange", () => {
    const [role] = rolePolicies(crossAccount({ recordName: '*.shop.example.com' }), WHERE);
    expect(role!.trustPolicy.Statement[0]!.Condition).toBeUndefined();
    expect(role!.permissionPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['route53:ListResourceRecordSets'], Resource: ['arn:aws:route53:::hostedzone/Z0EXAMPLE12345'] },
        {
          Effect: 'Allow',
          Action: ['route53:ChangeResourceRecordSets'],
          Resource: ['arn:aws:route53:::hostedzone/Z0EXAMPLE12345'],
          Condition: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['\\052.shop.example.com'],
              'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            },
          },
        },
        { Effect: 'Allow', Action: ['route53:GetChange'], Resource: ['arn:aws:route53:::change/*'] },
      ],
    });
  });

  it("are the same statements the stack grants itself for a zone in its own account (said once)", () => {
    const own = statementsOf(declareFunctions(parseConfig(example), STATE_MACHINE_NAME).shiftTraffic!).filter((s) => s.Action.some((a) => a.startsWith('route53:')));
    const [role] = rolePolicies(crossAccount(), WHERE);
    expect(JSON.stringify(role!.permissionPolicy.Statement)).toBe(JSON.stringify(own).replaceAll('{"Fn::Sub":"arn:${AWS::Partition}', '"arn:aws').replaceAll('"}', '"'));
  });

  it('in another partition, the resources are written for it', () => {
    const [role] = rolePolicies(parseConfig({ pairs: [{ ...example.pairs[0], dnsRoleArn: 'arn:aws-cn:iam::222222222222:role/dns' }] }), { ...WHERE, region: 'cn-north-1' });
    expect(role!.permissionPolicy.Statement[0]!.Resource).toEqual(['arn:aws-cn:route53:::hostedzone/Z0EXAMPLE12345']);
    expect(role!.trustPolicy.Statement[0]!.Principal!.AWS[0]).toBe('arn:aws-cn:iam::123456789012:role/ecs-dns-canary-prod-preflight-cn-north-1-lambdaRole');
  });
});

describe('STS session names', () => {
  it('say the pair and the execution, within 64 characters STS allows', () => {
    expect(sessionName('shop-web', 'arn:aws:states:eu-west-1:123456789012:execution:ecs-dns-canary-prod:shop-web--ecs-svc-4000000000000000003')).toBe('shop-web--ecs-svc-4000000000000000003');
    expect(sessionName('shop-web', 'cli@alice smith')).toBe('shop-web--cli@alice-smith');
    const long = sessionName('a-very-long-pair-name-of-32-char', `a-very-long-pair-name-of-32-char--ecs-svc-${'9'.repeat(40)}`);
    expect(long.length).toBe(64);
    expect(long).toMatch(/^a-very-long-pair-name-of-32-char--9+$/);
    for (const s of [long, sessionName('x', 'y'), sessionName('p', 'ümlaut/x:y')]) expect(s).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});

describe('npx ecs-dns-canary iam <pair>', () => {
  const options = ['--region', 'eu-west-1', '--trust', 'arn:aws:iam::123456789012:role/platform-operators', '--trust', '123456789012'];

  it('--json prints the roles, the very policies the simulated DNS account was given; the stack account is the caller\'s', async () => {
    const w = world({ pair: { dnsRoleArn: ROLE, dnsExternalId: 'shop-web-canary' } });
    const { code, json } = await w.operator('iam', 'shop-web', '--json', '--region', 'eu-west-1');
    expect(code).toBe(0);
    expect(Object.keys(json)).toEqual(['roles']);
    expect(json.roles).toHaveLength(1);
    expect(Object.keys(json.roles[0])).toEqual(['roleArn', 'account', 'trustPolicy', 'permissionPolicy']);
    const created = w.sim.accounts.get('222222222222')!.roles.get(ROLE)!;
    expect(json.roles[0]).toEqual({ roleArn: ROLE, account: '222222222222', trustPolicy: created.trustPolicy, permissionPolicy: created.permissionPolicy });
    expect(json.roles[0].trustPolicy.Statement[0].Principal.AWS[0]).toBe(`arn:aws:iam::${SIM_ACCOUNT}:role/ecs-dns-canary-prod-preflight-eu-west-1-lambdaRole`);
  });

  it('prints both policies as JSON with the commands that apply them, and the extra principals', async () => {
    const w = world({ pair: { dnsRoleArn: ROLE, dnsExternalId: 'shop-web-canary' } });
    const { code, out } = await w.operator('iam', 'shop-web', '--account', '123456789012', ...options);
    expect(code).toBe(0);
    expect(out).toContain(`shop-web: ${ROLE} for Route53 (zone Z0EXAMPLE12345 of shop-web)`);
    expect(out).toContain('in account 222222222222, assumed by preflight, shiftTraffic, waitForChange, promote, rollBack, safetyNet, sweep of ecs-dns-canary-prod (eu-west-1) with ExternalId shop-web-canary');
    expect(out).toContain('aws iam create-role --role-name ecs-dns-canary-dns --assume-role-policy-document file://trust.json');
    expect(out).toContain('aws iam put-role-policy --role-name ecs-dns-canary-dns --policy-name ecs-dns-canary --policy-document file://permissions.json');
    const [trust, permissions] = [...out.matchAll(/^\{[\s\S]*?^\}/gm)].map((m) => JSON.parse(m[0]));
    expect(trust.Statement[0].Principal.AWS.slice(-2)).toEqual(['arn:aws:iam::123456789012:role/platform-operators', '123456789012']);
    expect(permissions.Statement.map((s: { Action: string[] }) => s.Action[0])).toEqual(['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets', 'route53:GetChange']);
  });

  it('a pair in the stack account has no role to create; bad input is refused with a named error', async () => {
    const w = world();
    expect((await w.operator('iam', 'shop-web', '--json', '--region', 'eu-west-1')).json).toEqual({ roles: [] });
    expect((await w.operator('iam', 'shop-web', '--region', 'eu-west-1')).out).toContain("no dnsRoleArn, no service roleArn): no role to create in another account");
    const bad = await w.operator('iam', 'shop-web', '--json', '--trust', 'alice');
    expect(bad.code).toBe(2);
    expect(bad.json.error).toBe('UsageError');
    expect((await w.operator('iam', '--json')).json.error).toBe('UsageError');
    expect((await w.operator('iam', 'nope', '--json')).json.error).toBe('UnknownPair');
  });
});
