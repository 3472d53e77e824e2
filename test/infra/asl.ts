import type { Template } from 'aws-cdk-lib/assertions';
import { placeholderResolver, resolveDefinition } from '../../infra/asl.ts';
import type { AslDefinition, IntrinsicResolver } from '../../infra/asl.ts';

/**
 * The ASL of the one state machine in the template whose logical id starts with `logicalIdPrefix`, its
 * intrinsics turned into placeholders such as `${GetAtt:CycleAdvanceFunction1234.Arn}`.
 */
export function aslFromTemplate(
  template: Template,
  logicalIdPrefix: string,
  resolver: IntrinsicResolver = placeholderResolver,
): AslDefinition {
  const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) =>
    id.startsWith(logicalIdPrefix),
  );
  const [match, ...others] = machines;
  if (!match || others.length > 0) {
    throw new Error(
      `expected one state machine with logical id prefix ${logicalIdPrefix}, found ${machines.length}`,
    );
  }
  const [, resource] = match;
  return resolveDefinition(
    (resource as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString,
    resolver,
  );
}
