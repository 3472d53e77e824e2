import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { CatalogError, loadCatalog } from '../workflows/catalog/index.ts';
import { CaseTypeError, loadCaseTypes } from '../workflows/cases/index.ts';
import { DeliveryPolicyError, loadDeliveryPolicy } from '../workflows/delivery/policy.ts';
import { StatefulStack, attachmentsBucketName } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

/**
 * Deployment settings. Each comes from an environment variable if set, else from CDK context (cdk.json or
 * `-c key=value`): the environment wins because cdk.json always supplies the context defaults.
 *
 * Region: SES v2 is not offered in the AWS China regions (cn-north-1, cn-northwest-1), and the product sends
 * every reminder through it, so the default is ap-southeast-1 and a cn-* region fails the synth.
 */
export interface Settings {
  /** The From address of every notice. */
  senderAddress: string;
  /** Its domain (derived). */
  senderDomain: string;
  /** Which SES identity to create: the sender's domain (Easy DKIM, needs DNS records) or just the address. */
  senderIdentity: 'domain' | 'address';
  /** Base URL of the console; unit links in emails point there. */
  consoleUrl: string;
  region: string;
  account?: string;
  /** Name of the SSM SecureString holding the link HMAC secret (created by the operator, not the stack). */
  linkSecretParameter: string;
  /** Where alarm notifications go; no subscription when unset. */
  alarmEmail: string;
  /** Unit id of the county safety office (安委办), the last step of every escalation ladder. */
  safetyOfficeUnitId: string;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** The deployment's own duty catalog (absolute path), validated at synth and bundled with every function. */
  catalogFile?: string;
  /** The deployment's own case types (absolute path), likewise. */
  caseTypesFile?: string;
  /** The deployment's own delivery policy (absolute path), likewise (docs/delivery.md). */
  deliveryPolicyFile?: string;
  /**
   * Where text messages come from (AWS End User Messaging SMS): a phone number, pool or sender ID, by ARN or id.
   * Unset: no SMS is sent (and no SMS permission granted); every notice goes by email.
   */
  smsOriginationIdentity?: string;
  /** The SMS configuration set (its events, its default sender) named in every SendTextMessage; optional. */
  smsConfigurationSet?: string;
  /**
   * The registered SMS signature every text opens with, in 【】 (mainland networks require it); without the brackets.
   * Default 襄垣县安委办.
   */
  smsSignature?: string;
}

/** Context key, environment variable. */
const SOURCES = {
  senderAddress: ['safeduty:senderAddress', 'SAFEDUTY_SENDER_ADDRESS'],
  senderIdentity: ['safeduty:senderIdentity', 'SAFEDUTY_SENDER_IDENTITY'],
  consoleUrl: ['safeduty:consoleUrl', 'SAFEDUTY_CONSOLE_URL'],
  region: ['safeduty:region', 'SAFEDUTY_REGION'],
  account: ['safeduty:account', 'CDK_DEFAULT_ACCOUNT'],
  linkSecretParameter: ['safeduty:linkSecretParameter', 'SAFEDUTY_LINK_SECRET_PARAMETER'],
  alarmEmail: ['safeduty:alarmEmail', 'SAFEDUTY_ALARM_EMAIL'],
  safetyOfficeUnitId: ['safeduty:safetyOfficeUnitId', 'SAFEDUTY_SAFETY_OFFICE_UNIT_ID'],
  logLevel: ['safeduty:logLevel', 'SAFEDUTY_LOG_LEVEL'],
  // The same variable the CLI and the local runtime read: one file describes the county's duties everywhere.
  catalogFile: ['safeduty:catalogFile', 'SAFEDUTY_CATALOG'],
  caseTypesFile: ['safeduty:caseTypesFile', 'SAFEDUTY_CASE_TYPES'],
  deliveryPolicyFile: ['safeduty:deliveryPolicyFile', 'SAFEDUTY_DELIVERY_POLICY'],
  smsOriginationIdentity: ['safeduty:smsOriginationIdentity', 'SAFEDUTY_SMS_ORIGINATION_IDENTITY'],
  smsConfigurationSet: ['safeduty:smsConfigurationSet', 'SAFEDUTY_SMS_CONFIGURATION_SET'],
  smsSignature: ['safeduty:smsSignature', 'SAFEDUTY_SMS_SIGNATURE'],
} as const;

// Deliberately plain: SES and mailbox providers reject far more exotic forms than RFC 5322 allows.
const EMAIL = /^[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const SSM_NAME = /^\/?[A-Za-z0-9_.\-/]{1,1000}$/;
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
/**
 * The origination identities IAM can name (SendTextMessage authorizes against the phone number, pool or sender ID
 * used): an ARN of one, a phone number or pool id, or a sender ID. A phone number written as digits cannot be
 * turned into the ARN IAM checks (that needs its id), so it is refused.
 */
const SMS_IDENTITY_ARN =
  /^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool|sender-id)\/[A-Za-z0-9_\-/]+$/;
const SMS_RESOURCE_ID = /^(phone|pool)-[A-Za-z0-9]{8,}$/;
// Alphanumeric, with at least one letter: all digits is a phone number, not a sender ID.
const SMS_SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9_-]{1,11}$/;
/** SMS configuration set names (CreateConfigurationSet) or their ARN. */
const SMS_CONFIGURATION_SET =
  /^(?:[A-Za-z0-9_-]{1,64}|arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:configuration-set\/[A-Za-z0-9_-]{1,64})$/;

/** The reserved example domains (RFC 2606) and their gov.cn look-alike the examples use. */
function isExampleDomain(domain: string): boolean {
  return /(^|\.)example\.(com|net|org|gov\.cn|cn)$/i.test(domain);
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid safeduty settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** Reads and validates the settings; every problem is reported at once, before any construct is built. */
export function loadSettings(
  getContext: (key: string) => unknown,
  env: Record<string, string | undefined> = process.env,
): Settings {
  const raw = (field: keyof typeof SOURCES): string | undefined => {
    const [contextKey, envKey] = SOURCES[field];
    const fromEnv = env[envKey];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
    const fromContext = getContext(contextKey);
    if (fromContext === undefined || fromContext === null || fromContext === '') return undefined;
    return String(fromContext).trim();
  };
  const describe = (field: keyof typeof SOURCES) => `${SOURCES[field][0]} (or ${SOURCES[field][1]})`;
  const problems: string[] = [];

  const senderAddress = raw('senderAddress') ?? '';
  const senderMatch = EMAIL.exec(senderAddress);
  if (!senderMatch || senderAddress.length > 254) {
    problems.push(
      `${describe('senderAddress')} must be an email address such as safeduty@example.gov.cn, got ${JSON.stringify(senderAddress)}`,
    );
  }

  const senderIdentity = raw('senderIdentity') ?? 'domain';
  if (senderIdentity !== 'domain' && senderIdentity !== 'address') {
    problems.push(
      `${describe('senderIdentity')} must be "domain" or "address", got ${JSON.stringify(senderIdentity)}`,
    );
  }

  const consoleUrl = raw('consoleUrl') ?? '';
  let parsedConsole: URL | undefined;
  try {
    parsedConsole = new URL(consoleUrl);
  } catch {
    parsedConsole = undefined;
  }
  // Links in emails carry signed tokens: plain http would expose them on the way.
  if (!parsedConsole || parsedConsole.protocol !== 'https:' || parsedConsole.search || parsedConsole.hash) {
    problems.push(
      `${describe('consoleUrl')} must be an https URL without query or fragment, got ${JSON.stringify(consoleUrl)}`,
    );
  }

  const region = raw('region') ?? '';
  if (!REGION.test(region)) {
    problems.push(
      `${describe('region')} must be an AWS region such as ap-southeast-1, got ${JSON.stringify(region)}`,
    );
  } else if (region.startsWith('cn-')) {
    problems.push(
      `${describe('region')} is ${region}, but SES v2 is not offered in the AWS China regions and every reminder ` +
        'is sent through it: deploy to a region with SES v2 (default ap-southeast-1)',
    );
  }

  const account = raw('account');
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    problems.push(`${describe('account')} must be a 12-digit AWS account id, got ${JSON.stringify(account)}`);
  }

  const linkSecretParameter = raw('linkSecretParameter') ?? '/safeduty/link-secret';
  if (
    !SSM_NAME.test(linkSecretParameter) ||
    linkSecretParameter.includes('//') ||
    /^\/?(aws|ssm)/i.test(linkSecretParameter)
  ) {
    problems.push(
      `${describe('linkSecretParameter')} must be an SSM parameter name such as /safeduty/link-secret, got ${JSON.stringify(linkSecretParameter)}`,
    );
  }

  const alarmEmail = raw('alarmEmail');
  if (alarmEmail === undefined) {
    problems.push(
      `${describe('alarmEmail')} is required: every alarm (failed executions, refused emails, a stopped mail ` +
        'account, notices with nobody to go to) is sent there, and without it nobody hears of them',
    );
  } else if (!EMAIL.test(alarmEmail)) {
    problems.push(`${describe('alarmEmail')} must be an email address, got ${JSON.stringify(alarmEmail)}`);
  }

  // cdk.json carries example values so `cdk synth` works offline; a deployment that sets its own sender but keeps
  // an example alarm address or link domain would send alarms and links nowhere.
  const senderDomain = (senderMatch?.[1] ?? '').toLowerCase();
  if (senderMatch && !isExampleDomain(senderDomain)) {
    const alarmDomain = alarmEmail?.split('@')[1] ?? '';
    if (alarmEmail !== undefined && isExampleDomain(alarmDomain))
      problems.push(
        `${describe('alarmEmail')} is still the example ${JSON.stringify(alarmEmail)} while the sender is ` +
          `${JSON.stringify(senderAddress)}: set the address your operators read`,
      );
    if (parsedConsole && isExampleDomain(parsedConsole.hostname))
      problems.push(
        `${describe('consoleUrl')} is still the example ${JSON.stringify(consoleUrl)} while the sender is ` +
          `${JSON.stringify(senderAddress)}: set the domain the links in emails point at (mapped to the API)`,
      );
  }

  const safetyOfficeUnitId = raw('safetyOfficeUnitId') ?? 'county-safety-office';

  const logLevel = (raw('logLevel') ?? 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(
      `${describe('logLevel')} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  }

  // Checked now, with every problem named: a bad file must fail the synth, not the first dispatch on AWS.
  const deploymentFile = (
    field: 'catalogFile' | 'caseTypesFile' | 'deliveryPolicyFile',
    load: (file: string) => unknown,
  ) => {
    const setting = raw(field);
    if (setting === undefined) return undefined;
    const file = resolve(setting);
    try {
      load(file);
    } catch (err) {
      if (
        !(err instanceof CatalogError) &&
        !(err instanceof CaseTypeError) &&
        !(err instanceof DeliveryPolicyError)
      )
        throw err;
      problems.push(`${describe(field)}: ${err.message}`);
    }
    return file;
  };
  const catalogFile = deploymentFile('catalogFile', (file) => loadCatalog({ file }));
  const caseTypesFile = deploymentFile('caseTypesFile', (file) => loadCaseTypes({ file }));
  const deliveryPolicyFile = deploymentFile('deliveryPolicyFile', (file) => loadDeliveryPolicy({ file }));

  const smsOriginationIdentity = raw('smsOriginationIdentity');
  if (
    smsOriginationIdentity !== undefined &&
    !SMS_IDENTITY_ARN.test(smsOriginationIdentity) &&
    !SMS_RESOURCE_ID.test(smsOriginationIdentity) &&
    !SMS_SENDER_ID.test(smsOriginationIdentity)
  ) {
    problems.push(
      `${describe('smsOriginationIdentity')} must be the ARN or id of a phone number or pool (phone-…, pool-…), ` +
        `or a registered sender ID, got ${JSON.stringify(smsOriginationIdentity)}` +
        (/^\+?\d+$/.test(smsOriginationIdentity)
          ? ": give the phone number's id (phone-…) or ARN, which IAM can name, not its digits"
          : ''),
    );
  }
  const smsConfigurationSet = raw('smsConfigurationSet');
  if (smsConfigurationSet !== undefined) {
    if (!SMS_CONFIGURATION_SET.test(smsConfigurationSet))
      problems.push(
        `${describe('smsConfigurationSet')} must be an SMS configuration set name or ARN, got ${JSON.stringify(smsConfigurationSet)}`,
      );
    // Without an identity the deployment sends no SMS at all: a configuration set alone would be ignored silently.
    if (smsOriginationIdentity === undefined)
      problems.push(
        `${describe('smsConfigurationSet')} is set but ${describe('smsOriginationIdentity')} is not: text messages ` +
          'are sent only from a configured origination identity',
      );
  }

  const smsSignature = raw('smsSignature');
  // China's rule: a registered signature of 2–16 characters; the brackets are added when a message is composed.
  if (smsSignature !== undefined && !/^[^【】[\]\s]{2,16}$/.test(smsSignature))
    problems.push(
      `${describe('smsSignature')} must be the registered signature of 2–16 characters, without 【】, got ${JSON.stringify(smsSignature)}`,
    );

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    senderAddress,
    senderDomain,
    senderIdentity: senderIdentity as Settings['senderIdentity'],
    consoleUrl: consoleUrl.replace(/\/$/, ''),
    region,
    ...(account !== undefined ? { account } : {}),
    linkSecretParameter,
    alarmEmail: alarmEmail ?? '',
    safetyOfficeUnitId,
    logLevel: logLevel as Settings['logLevel'],
    ...(catalogFile !== undefined ? { catalogFile } : {}),
    ...(caseTypesFile !== undefined ? { caseTypesFile } : {}),
    ...(deliveryPolicyFile !== undefined ? { deliveryPolicyFile } : {}),
    ...(smsOriginationIdentity !== undefined ? { smsOriginationIdentity } : {}),
    ...(smsConfigurationSet !== undefined ? { smsConfigurationSet } : {}),
    ...(smsSignature !== undefined ? { smsSignature } : {}),
  };
}

export interface BuildAppOptions {
  /** Extra context, e.g. `{ 'aws:cdk:bundling-stacks': [] }` in tests to skip esbuild. */
  context?: Record<string, unknown>;
  /** Where settings' environment variables are read; tests pass `{}` to stay independent of the shell. */
  env?: Record<string, string | undefined>;
  outdir?: string;
}

export interface SafedutyApp {
  app: App;
  settings: Settings;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

export function buildApp(options: BuildAppOptions = {}): SafedutyApp {
  const app = new App({
    ...(options.context ? { context: options.context } : {}),
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const settings = loadSettings((key) => app.node.tryGetContext(key), options.env ?? process.env);
  const env = { region: settings.region, ...(settings.account ? { account: settings.account } : {}) };

  const stateful = new StatefulStack(app, 'SafedutyStateful', {
    env,
    description: 'safeduty: data (DynamoDB table) and the SES sending identity',
    settings,
  });
  const stateless = new StatelessStack(app, 'SafedutyStateless', {
    env,
    description: 'safeduty: functions, duty-cycle workflow, daily dispatch schedule and alarms',
    table: stateful.table,
    tableIndexNames: stateful.indexNames,
    emailIdentityArn: stateful.emailIdentity.emailIdentityArn,
    attachmentsBucketName: attachmentsBucketName(stateful.stackName),
    configurationSetName: stateful.configurationSet.configurationSetName,
    settings,
  });
  Tags.of(app).add('project', 'safeduty');

  // cdk-nag 3 is a CDK policy-validation plugin (no longer an Aspect): any unacknowledged finding fails the
  // synth. Acknowledgments (Validations.of(construct).acknowledge) are copied into the template metadata so a
  // reviewer of the synthesized template sees each reason.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
    new ServerlessChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  );
  return { app, settings, stateful, stateless };
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    buildApp().app.synth();
  } catch (err) {
    // A settings mistake is the operator's to fix: print the list, not a stack trace.
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
