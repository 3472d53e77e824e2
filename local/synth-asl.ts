import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { buildApp } from '../infra/app.ts';
import { resolveDefinition } from '../infra/asl.ts';

export interface LocalMachines {
  dutyCycle: { arn: string; definition: StateMachineDefinition };
  caseWorkflow: { arn: string; definition: StateMachineDefinition };
  delivery: { arn: string; definition: StateMachineDefinition };
}

/**
 * Run as a script by loadStateMachines (local/asl.ts) so that aws-cdk-lib is loaded in a short-lived process of
 * its own: it costs hundreds of MB that the long-running local runtime should not carry.
 *
 * The state machines exactly as the CDK app synthesizes them: the app is built (bundling skipped, since the
 * local runtime calls the handlers' sources), and each definition's Fn::Join is resolved with local ARNs.
 */
export async function synthesizeStateMachines(env: {
  region: string;
  account: string;
}): Promise<LocalMachines> {
  const outdir = mkdtempSync(join(tmpdir(), 'safeduty-synth-'));
  try {
    const { app, stateless } = buildApp({
      context: { 'aws:cdk:bundling-stacks': [] },
      // cdk.json context only reaches apps run by the CLI; the settings the synthesized ASL needs are given here.
      env: {
        SAFEDUTY_SENDER_ADDRESS: 'safeduty@example.gov.cn',
        SAFEDUTY_CONSOLE_URL: 'https://safeduty.example.gov.cn',
        SAFEDUTY_REGION: env.region,
        SAFEDUTY_ALARM_EMAIL: 'ops@example.gov.cn',
      },
      outdir,
    });
    const template = app.synth().getStackByName(stateless.stackName).template as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const stackName = stateless.stackName;
    const resolver = (ref: unknown): string => {
      const r = ref as Record<string, unknown>;
      if (typeof r.Ref === 'string') {
        if (r.Ref === 'AWS::Partition') return 'aws';
        if (r.Ref === 'AWS::Region') return env.region;
        if (r.Ref === 'AWS::AccountId') return env.account;
        if (r.Ref === 'AWS::StackName') return stackName;
        if (r.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
        return `local-${r.Ref}`;
      }
      const getAtt = r['Fn::GetAtt'] as [string, string] | undefined;
      if (getAtt) return `arn:aws:lambda:${env.region}:${env.account}:function:${getAtt[0]}`;
      return JSON.stringify(ref);
    };
    const definitionOf = (prefix: string): StateMachineDefinition => {
      const [logicalId, resource] =
        Object.entries(template.Resources).find(
          ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(prefix),
        ) ?? [];
      if (!logicalId || !resource) throw new Error(`the synthesized app has no ${prefix} state machine`);
      return resolveDefinition(resource.Properties?.DefinitionString, resolver) as StateMachineDefinition;
    };
    const arn = (name: string) =>
      `arn:aws:states:${env.region}:${env.account}:stateMachine:${stackName}-${name}`;
    return {
      dutyCycle: { arn: arn('duty-cycle'), definition: definitionOf('DutyCycle') },
      caseWorkflow: { arn: arn('case'), definition: definitionOf('CaseWorkflow') },
      delivery: { arn: arn('delivery'), definition: definitionOf('DeliveryWorkflow') },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = JSON.parse(process.argv[2] ?? '{}') as { region: string; account: string };
  process.stdout.write(JSON.stringify(await synthesizeStateMachines(env)));
}
