/**
 * Recovers a state machine's Amazon States Language from a synthesized template. CDK renders
 * `DefinitionString` as an `Fn::Join` of JSON text and intrinsics (the Lambda ARNs, the partition...); the
 * resolver decides what each intrinsic becomes: a placeholder in tests, a local handler id in the local runtime.
 */

/** The CloudFormation intrinsics a definition can contain, as handed to the resolver. */
export type Intrinsic =
  | { kind: 'Ref'; logicalId: string }
  | { kind: 'GetAtt'; logicalId: string; attribute: string }
  | { kind: 'ImportValue'; exportName: string };

export type IntrinsicResolver = (intrinsic: Intrinsic) => string;

/** A minimal view of an ASL document: what the tests and the local runtime look at. */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; [k: string]: unknown }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  [k: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [k: string]: unknown;
}

/**
 * `${Ref:X}`, `${GetAtt:X.Attr}`, `${ImportValue:Name}` (pseudo parameters as `${AWS::Region}`): readable in
 * assertions and impossible to mistake for a real ARN.
 */
export const placeholderResolver: IntrinsicResolver = (i) => {
  switch (i.kind) {
    case 'Ref':
      return i.logicalId.startsWith('AWS::') ? `\${${i.logicalId}}` : `\${Ref:${i.logicalId}}`;
    case 'GetAtt':
      return `\${GetAtt:${i.logicalId}.${i.attribute}}`;
    case 'ImportValue':
      return `\${ImportValue:${i.exportName}}`;
  }
};

/** Resolves a CloudFormation value (a string or an intrinsic, nested at will) to a string. */
export function resolveValue(value: unknown, resolver: IntrinsicResolver): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`cannot resolve ${JSON.stringify(value)}: not a string or an intrinsic function`);
  }
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) {
    throw new Error(`cannot resolve ${JSON.stringify(value)}: an intrinsic has exactly one key`);
  }
  const arg: unknown = (value as Record<string, unknown>)[key];
  switch (key) {
    case 'Ref':
      if (typeof arg !== 'string') break;
      return resolver({ kind: 'Ref', logicalId: arg });
    case 'Fn::GetAtt': {
      const [logicalId, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      if (!logicalId || attribute.length === 0) break;
      return resolver({ kind: 'GetAtt', logicalId, attribute: attribute.join('.') });
    }
    case 'Fn::ImportValue':
      return resolver({ kind: 'ImportValue', exportName: resolveValue(arg, resolver) });
    case 'Fn::Join': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) break;
      const [delimiter, parts] = arg as [string, unknown[]];
      return parts.map((p) => resolveValue(p, resolver)).join(delimiter);
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) break;
      const list = resolveList(arg[1], resolver);
      const item = list[Number(resolveValue(arg[0], resolver))];
      if (item === undefined) break;
      return item;
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}: unsupported or malformed intrinsic ${key}`);
}

function resolveList(value: unknown, resolver: IntrinsicResolver): string[] {
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, resolver));
  const split = (value as Record<string, unknown> | null)?.['Fn::Split'];
  if (Array.isArray(split) && split.length === 2 && typeof split[0] === 'string') {
    return resolveValue(split[1], resolver).split(split[0]);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} to a list`);
}

/**
 * Turns a `DefinitionString` (plain JSON text or an `Fn::Join` of JSON text and intrinsics) into the ASL
 * document. Intrinsics only ever stand inside JSON strings (ARNs, names), so each resolved value is
 * JSON-escaped before it is spliced into the text.
 */
export function resolveDefinition(
  definitionString: unknown,
  resolver: IntrinsicResolver = placeholderResolver,
): AslDefinition {
  let text: string;
  if (typeof definitionString === 'string') {
    text = definitionString;
  } else {
    const join = (definitionString as Record<string, unknown> | null)?.['Fn::Join'];
    if (!Array.isArray(join) || join.length !== 2 || typeof join[0] !== 'string' || !Array.isArray(join[1])) {
      throw new Error('DefinitionString is neither a string nor an Fn::Join');
    }
    const [delimiter, parts] = join as [string, unknown[]];
    text = parts
      .map((p) => (typeof p === 'string' ? p : JSON.stringify(resolveValue(p, resolver)).slice(1, -1)))
      .join(delimiter);
  }
  const asl = JSON.parse(text) as AslDefinition;
  if (typeof asl?.StartAt !== 'string' || typeof asl.States !== 'object' || asl.States === null) {
    throw new Error('the resolved definition is not a state machine (StartAt/States missing)');
  }
  return asl;
}
